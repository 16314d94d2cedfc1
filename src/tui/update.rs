//! How data from background tasks changes the app: the facts, the views, and where to go next.

use super::action::Notice;
use super::app::App;
use super::message::{Data, EvidenceData, ExportView};
use super::screens::Screen;
use super::screens::evidence::EvidenceView;
use super::screens::preview::PreviewView;

impl App {
    /// Applies one result of a background task.
    pub(crate) fn apply_data(&mut self, data: Data) {
        match data {
            Data::Overview(overview) => {
                self.facts.validation.clone_from(&overview.validation);
                self.facts.overview = Some(overview);
            }
            Data::Settings(settings) => {
                if let Some(saved) = &settings {
                    self.fields.prefill(saved);
                }
                self.facts.settings = settings;
            }
            Data::Saved(note) => self.saved(note),
            Data::Validated(report) => {
                let text = format!(
                    "validated: {} answers as user {}",
                    report.instance, report.user_name
                );
                self.notice = Some(Notice::info(text));
                self.facts.validation = Some(report);
            }
            Data::Synced(metadata) => {
                let text = format!(
                    "synced {} fields of {}",
                    metadata.fields.len(),
                    metadata.table
                );
                self.notice = Some(Notice::info(text));
                self.sample.set_choices(Some(&metadata));
                self.facts.metadata = Some(metadata);
            }
            Data::Metadata(metadata) => {
                self.sample.set_choices(metadata.as_ref());
                self.facts.metadata = metadata;
            }
            Data::Record(record) => self.facts.record = Some(record),
            Data::Previewed(previewed) => {
                let (run, preview) = *previewed;
                self.preview = Some(PreviewView::new(run, preview, self.theme));
                self.show_run_screen(Screen::Preview);
            }
            Data::Approved(approval) => {
                let text = format!("approved by {} ({})", approval.approver, approval.reason);
                self.notice = Some(Notice::info(text));
                if let Some(view) = self.preview.as_mut() {
                    view.approval = Some(approval);
                }
            }
            Data::Rejected(run) => {
                self.notice = Some(Notice::info(format!(
                    "run {} rejected: nothing was sent",
                    run.id
                )));
                self.update_preview_run(run);
            }
            Data::Executed(execution) => {
                self.notice = Some(Notice::info(execution.message.clone()));
                self.update_preview_run(execution.run);
            }
            Data::Runs(runs) => self.facts.runs = runs,
            Data::Detail(detail) => {
                self.detail(*detail);
                self.show_run_screen(Screen::Evidence);
            }
            Data::DetailUpdate(detail) => {
                if self.shows_run(&detail.run.id) {
                    self.detail(*detail);
                }
            }
            Data::SandboxReset => {
                self.notice = Some(Notice::info(
                    "sandbox reset: INC-42 is back to its open story",
                ));
            }
            Data::RequestLog(log) => self.facts.request_log = log,
            Data::Credential(view) => self.facts.credential = view,
            Data::Exported(pack) => self.exported(pack),
            Data::AuditPage(page) => {
                if let Some(job) = self.audit_log.apply_page(page) {
                    self.tasks.start(job);
                }
            }
            Data::AuditVerified(report) => self.audit_log.verified = Some(report),
        }
    }

    /// Holds a run's evidence; the same run again keeps its place and its export.
    fn detail(&mut self, detail: EvidenceData) {
        let old = self
            .evidence
            .take()
            .filter(|old| old.data.run.id == detail.run.id);
        let mut view = EvidenceView::new(detail, self.theme);
        if let Some(old) = old {
            view.keep_place(old, self.theme);
        }
        self.evidence = Some(view);
    }

    fn exported(&mut self, pack: ExportView) {
        let text = format!(
            "evidence of run {} written to {}",
            pack.run_id,
            pack.markdown.parent().unwrap_or(&pack.markdown).display()
        );
        self.notice = Some(Notice::info(text));
        let theme = self.theme;
        if let Some(view) = self.evidence.as_mut()
            && view.data.run.id == pack.run_id
        {
            view.set_exported(pack, theme);
        }
    }

    fn shows_run(&self, run_id: &str) -> bool {
        self.evidence
            .as_ref()
            .is_some_and(|e| e.data.run.id == run_id)
    }

    fn saved(&mut self, note: super::message::SaveNote) {
        let text = format!(
            "saved {}; password kept in {}",
            note.instance, note.secret_store
        );
        self.notice = Some(Notice::info(text));
        self.facts.saved = Some(note);
        self.fields.forget_secret();
        if self.screen() == Screen::Fields {
            self.go(Screen::Configure);
        }
    }

    fn update_preview_run(&mut self, run: crate::domain::run::GovernedRun) {
        let theme = self.theme;
        if let Some(view) = self.preview.as_mut() {
            view.update_run(run, theme);
        }
    }
}
