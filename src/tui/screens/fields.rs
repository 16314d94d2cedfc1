//! Step 03 collect-fields: the connector form. Problems are shown inline under the field they
//! name; secrets are masked and never drawn; Esc leaves even while the form is invalid. On the
//! embedded sandbox the demo user is prefilled and one key fills its demo secrets.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::domain::connector::{
    AuthKind, ConnectPayload, FieldProblem, InstanceTarget, ManagedObject, SANDBOX_WORD,
    normalise_instance_url,
};
use crate::sandbox::{
    INTEGRATION_PASSWORD, INTEGRATION_USER, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET,
};
use crate::tui::action::{Action, Notice};
use crate::tui::message::{Job, SavedSettings};
use crate::tui::widgets::text_input::TextInput;

/// The labels of the text inputs, by index.
pub const LABELS: [&str; 6] = [
    "Instance URL",
    "Username",
    "Password",
    "OAuth client id",
    "OAuth client secret",
    "Allowed fields",
];
pub(super) const URL: usize = 0;
pub(super) const USER: usize = 1;
pub(super) const PASSWORD: usize = 2;
pub(super) const OAUTH_ID: usize = 3;
pub(super) const OAUTH_SECRET: usize = 4;
pub(super) const FIELDS: usize = 5;
const DEFAULT_FIELDS: &str = "state, close_notes, close_code, work_notes";

/// A place the focus can rest on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Stop {
    Input(usize),
    Auth,
    Sandbox,
    Save,
}

/// The state of the step 03 form.
pub struct FieldsForm {
    pub(super) inputs: [TextInput; 6],
    pub(super) auth: AuthKind,
    pub(super) sandbox: bool,
    pub(super) focus: Stop,
    pub(super) problems: Vec<FieldProblem>,
    touched: bool,
    /// The username holds the sandbox's demo user because the target is the sandbox, not
    /// because the operator typed it.
    user_prefilled: bool,
    /// The secrets hold the sandbox's demo values (Ctrl-D), which must never go elsewhere.
    demo_filled: bool,
    /// A connector is saved, so empty secret fields mean "keep the stored ones".
    pub(super) has_saved: bool,
}

impl Default for FieldsForm {
    fn default() -> Self {
        Self::new()
    }
}

impl FieldsForm {
    /// A fresh form pointing at the embedded sandbox, its demo user and the seed's allowlist.
    pub fn new() -> Self {
        let mut form = Self {
            inputs: [
                TextInput::single(SANDBOX_WORD),
                TextInput::single(INTEGRATION_USER),
                TextInput::secret(),
                TextInput::single(""),
                TextInput::secret(),
                TextInput::single(DEFAULT_FIELDS),
            ],
            auth: AuthKind::Basic,
            sandbox: true,
            focus: Stop::Input(URL),
            problems: Vec::new(),
            touched: false,
            user_prefilled: true,
            demo_filled: false,
            has_saved: false,
        };
        form.refocus();
        form
    }

    /// Fills the form from saved settings, unless the operator already typed something.
    pub fn prefill(&mut self, saved: &SavedSettings) {
        self.has_saved = true;
        if self.touched {
            return;
        }
        self.inputs[URL].set_value(&saved.instance);
        self.inputs[USER].set_value(&saved.username);
        self.inputs[OAUTH_ID].set_value(&saved.oauth_client_id);
        self.inputs[FIELDS].set_value(&saved.allowed_fields.join(", "));
        self.sandbox = saved.is_sandbox;
        self.auth = saved.auth;
        self.user_prefilled = false;
    }

    /// Drops the typed secrets once they are saved, so they live in one store only.
    pub fn forget_secret(&mut self) {
        self.inputs[PASSWORD] = TextInput::secret();
        self.inputs[OAUTH_SECRET] = TextInput::secret();
        self.demo_filled = false;
        self.refocus();
    }

    /// Whether a text input has focus (letters type instead of acting).
    pub fn typing(&self) -> bool {
        matches!(self.focus, Stop::Input(_))
    }

    /// Whether the typed instance is the embedded sandbox.
    pub fn targets_sandbox(&self) -> bool {
        matches!(
            normalise_instance_url(&self.inputs[URL].value()),
            Ok(InstanceTarget::Sandbox)
        )
    }

    /// The connect payload the form describes; saving does not validate or sync (step 04 does).
    pub fn payload(&self) -> ConnectPayload {
        let fields = self.inputs[FIELDS]
            .value()
            .split([',', ' '])
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect();
        let url = self.inputs[URL].value();
        let is_sandbox = self.sandbox || url.trim().eq_ignore_ascii_case(SANDBOX_WORD);
        let oauth = |index: usize| match self.auth {
            AuthKind::OAuth => self.inputs[index].value(),
            AuthKind::Basic => String::new(),
        };
        ConnectPayload {
            instance_url: url,
            client_id: self.inputs[USER].value(),
            client_secret: self.inputs[PASSWORD].value(),
            is_sandbox,
            is_enabled: true,
            validate_after_save: false,
            sync_metadata_after_save: false,
            managed_objects: vec![ManagedObject {
                object_api_name: "incident".to_owned(),
                display_name: "Incident".to_owned(),
                allowed_fields: fields,
            }],
            auth_method: self.auth,
            oauth_client_id: oauth(OAUTH_ID),
            oauth_client_secret: oauth(OAUTH_SECRET),
        }
    }

    /// The focus stops in order; the OAuth inputs exist only with OAuth.
    pub(super) fn stops(&self) -> Vec<Stop> {
        let mut stops = vec![Stop::Input(URL), Stop::Input(USER), Stop::Input(PASSWORD)];
        stops.push(Stop::Auth);
        if self.auth == AuthKind::OAuth {
            stops.extend([Stop::Input(OAUTH_ID), Stop::Input(OAUTH_SECRET)]);
        }
        stops.extend([Stop::Input(FIELDS), Stop::Sandbox, Stop::Save]);
        stops
    }

    /// Handles a key; text inputs get only editing keys, app keys come first.
    pub fn on_key(&mut self, key: KeyEvent) -> Action {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('s') if ctrl => return self.save(),
            KeyCode::Char('d') if ctrl => return self.fill_demo(),
            KeyCode::BackTab | KeyCode::Up => return self.move_focus(false),
            KeyCode::Enter if self.focus == Stop::Save => return self.save(),
            KeyCode::Enter | KeyCode::Char(' ') if self.focus == Stop::Sandbox => {
                self.sandbox = !self.sandbox;
                self.touched = true;
                return Action::Done;
            }
            KeyCode::Char(' ') | KeyCode::Left | KeyCode::Right if self.focus == Stop::Auth => {
                self.switch_auth();
                return Action::Done;
            }
            KeyCode::Tab | KeyCode::Down | KeyCode::Enter => return self.move_focus(true),
            _ => {}
        }
        let Stop::Input(index) = self.focus else {
            return Action::Ignored;
        };
        if !self.inputs[index].handle_key(key) {
            return Action::Ignored;
        }
        self.edited(index);
        Action::Done
    }

    /// Pastes into the focused input.
    pub fn on_paste(&mut self, text: &str) {
        if let Stop::Input(index) = self.focus {
            self.inputs[index].paste(text);
            self.edited(index);
        }
    }

    /// After an edit: the sandbox's demo values follow the instance typed, never leave with it.
    fn edited(&mut self, index: usize) {
        self.touched = true;
        match index {
            URL => self.follow_target(),
            USER => self.user_prefilled = false,
            _ => {}
        }
    }

    /// Prefills the demo user for the sandbox; takes the demo values out for any other target.
    fn follow_target(&mut self) {
        let sandbox = self.targets_sandbox();
        if sandbox && self.inputs[USER].value().is_empty() {
            self.inputs[USER].set_value(INTEGRATION_USER);
            self.user_prefilled = true;
        }
        if sandbox {
            return;
        }
        if self.user_prefilled {
            self.inputs[USER].set_value("");
            self.user_prefilled = false;
        }
        if self.demo_filled {
            for index in [PASSWORD, OAUTH_ID, OAUTH_SECRET] {
                self.inputs[index].set_value("");
            }
            self.demo_filled = false;
        }
    }

    fn switch_auth(&mut self) {
        self.auth = match self.auth {
            AuthKind::Basic => AuthKind::OAuth,
            AuthKind::OAuth => AuthKind::Basic,
        };
        self.touched = true;
    }

    /// Fills the sandbox's demo password (and OAuth client); refused for any other target.
    fn fill_demo(&mut self) -> Action {
        if !self.targets_sandbox() {
            return Action::Notice(Notice::error(
                "Ctrl-D fills the demo secrets of the embedded sandbox only (instance URL \
                 `sandbox`); for this instance type the integration user's password",
            ));
        }
        if self.inputs[USER].value().trim().is_empty() || self.user_prefilled {
            self.inputs[USER].set_value(INTEGRATION_USER);
        }
        self.inputs[PASSWORD].set_value(INTEGRATION_PASSWORD);
        let mut text = "sandbox demo password".to_owned();
        if self.auth == AuthKind::OAuth {
            self.inputs[OAUTH_ID].set_value(OAUTH_CLIENT_ID);
            self.inputs[OAUTH_SECRET].set_value(OAUTH_CLIENT_SECRET);
            text.push_str(" and OAuth client");
        }
        self.demo_filled = true;
        self.touched = true;
        self.problems.clear();
        self.refocus();
        Action::Notice(Notice::info(format!(
            "{text} filled (masked); Ctrl-S saves"
        )))
    }

    fn move_focus(&mut self, forward: bool) -> Action {
        let stops = self.stops();
        let at = stops.iter().position(|s| *s == self.focus).unwrap_or(0);
        let next = if forward {
            (at + 1) % stops.len()
        } else {
            (at + stops.len() - 1) % stops.len()
        };
        self.focus = stops[next];
        self.refocus();
        Action::Done
    }

    fn refocus(&mut self) {
        for (i, input) in self.inputs.iter_mut().enumerate() {
            input.set_focus(self.focus == Stop::Input(i));
        }
    }

    fn save(&mut self) -> Action {
        let payload = self.payload();
        let keeps = |p: &FieldProblem| {
            self.has_saved && matches!(p.field.as_str(), "clientSecret" | "oauthClientSecret")
        };
        match payload
            .check()
            .map_err(|all| all.into_iter().filter(|p| !keeps(p)).collect::<Vec<_>>())
        {
            Ok(_) => {
                self.problems.clear();
                Action::Start(Job::Connect(payload))
            }
            Err(problems) if problems.is_empty() => {
                self.problems.clear();
                Action::Start(Job::Connect(payload))
            }
            Err(problems) => {
                self.focus = Stop::Input(problems.first().map_or(URL, |p| input_of(&p.field)));
                self.refocus();
                let names: Vec<_> = problems
                    .iter()
                    .map(|p| LABELS[input_of(&p.field)])
                    .collect();
                self.problems = problems;
                Action::Notice(Notice::error(format!(
                    "not saved: fix {}",
                    names.join(", ")
                )))
            }
        }
    }
}

/// Which input a payload problem names.
pub(super) fn input_of(field: &str) -> usize {
    match field {
        "instanceUrl" => URL,
        "clientId" => USER,
        "clientSecret" => PASSWORD,
        "oauthClientId" => OAUTH_ID,
        "oauthClientSecret" => OAUTH_SECRET,
        _ => FIELDS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(form: &mut FieldsForm, code: KeyCode) -> Action {
        form.on_key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn ctrl(form: &mut FieldsForm, c: char) -> Action {
        form.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
    }

    #[test]
    fn saving_without_a_password_names_it_and_sends_nothing() {
        let mut form = FieldsForm::new();
        let action = ctrl(&mut form, 's');
        assert!(matches!(action, Action::Notice(n) if n.text.contains("Password")));
        let fields: Vec<_> = form.problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["clientSecret"]);
        assert_eq!(form.focus, Stop::Input(PASSWORD));
    }

    #[test]
    fn a_complete_form_becomes_a_connect_job_without_validation() {
        let mut form = FieldsForm::new();
        press(&mut form, KeyCode::Tab);
        press(&mut form, KeyCode::Tab);
        form.on_paste("pw");
        let Action::Start(Job::Connect(payload)) = ctrl(&mut form, 's') else {
            panic!("no connect job")
        };
        assert_eq!(payload.managed_objects[0].allowed_fields.len(), 4);
        assert!(!payload.validate_after_save && !payload.sync_metadata_after_save);
        assert_eq!(payload.client_id, INTEGRATION_USER);
        assert_eq!(payload.client_secret, "pw");
    }

    #[test]
    fn demo_secrets_never_follow_the_form_to_another_instance() {
        let mut form = FieldsForm::new();
        press(&mut form, KeyCode::Tab);
        press(&mut form, KeyCode::Tab);
        press(&mut form, KeyCode::Tab);
        press(&mut form, KeyCode::Right);
        assert_eq!(form.auth, AuthKind::OAuth);
        ctrl(&mut form, 'd');
        assert_eq!(form.payload().oauth_client_secret, OAUTH_CLIENT_SECRET);
        form.focus = Stop::Input(URL);
        ctrl(&mut form, 'u');
        form.on_paste("dev12345");
        let payload = form.payload();
        assert_eq!(payload.client_secret, "");
        assert_eq!(payload.client_id, "", "the prefilled demo user leaves too");
        assert_eq!(payload.oauth_client_secret, "");
        assert!(matches!(ctrl(&mut form, 'd'), Action::Notice(n) if n.text.contains("only")));
        assert_eq!(form.payload().client_secret, "");
    }
}
