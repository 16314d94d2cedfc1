//! How data from background tasks changes the app: the facts, the views, and where to go next.

use super::action::Notice;
use super::app::App;
use super::message::Data;
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
                self.evidence = Some(EvidenceView::new(*detail, self.theme));
                self.show_run_screen(Screen::Evidence);
            }
            Data::SandboxReset => {
                self.notice = Some(Notice::info(
                    "sandbox reset: INC-42 is back to its open story",
                ));
            }
        }
    }

    fn saved(&mut self, note: super::message::SaveNote) {
        let mut text = format!("saved {}; password in {}", note.instance, note.secret_store);
        if !note.note.is_empty() {
            text = format!("{text} ({})", note.note);
        }
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
