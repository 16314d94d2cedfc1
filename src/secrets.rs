//! Where the connector's password lives: the OS keyring when there is one, and a clearly named
//! fallback when there is not (a typical SSH jump host has no Secret Service).
//!
//! The order is: Secret Service (persists), the kernel session keyring (lives until logout or
//! reboot), and memory for this process only. `ACTIONPLANE_CLIENT_SECRET` overrides them all for
//! automation. Nothing is ever written to a plaintext file.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::servicenow::Secret;

/// The environment variable automation uses to hand over the password.
pub const SECRET_ENV: &str = "ACTIONPLANE_CLIENT_SECRET";

const SERVICE: &str = "actionplane";
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// The kind of store that holds a secret; stored (by name only) with the connector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StoreKind {
    /// The desktop keyring (Secret Service): persists across reboots.
    Keyring,
    /// The kernel session keyring: shared by this login session, lost at logout or reboot.
    #[serde(rename = "session-keyring")]
    Session,
    /// Read from `ACTIONPLANE_CLIENT_SECRET` at each start.
    Environment,
    /// Typed for this process only.
    Memory,
}

impl StoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keyring => "keyring",
            Self::Session => "session-keyring",
            Self::Environment => "environment",
            Self::Memory => "memory",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Keyring,
            Self::Session,
            Self::Environment,
            Self::Memory,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }

    /// In words, for the screen.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Keyring => "OS keyring (Secret Service): persists",
            Self::Session => "session keyring: lives until logout or reboot",
            Self::Environment => "environment variable ACTIONPLANE_CLIENT_SECRET",
            Self::Memory => "this process only: typed again at next start",
        }
    }

    /// Whether the secret survives a reboot (a go-live condition).
    pub fn persists(self) -> bool {
        matches!(self, Self::Keyring | Self::Environment)
    }
}

/// Where a secret went and why it went there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Placement {
    pub kind: StoreKind,
    /// Why stronger stores were skipped, in words; empty when the keyring took it.
    pub note: String,
}

/// A secret could not be found or kept.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "no password is available for {account} in the {store}: connect again with the password, \
         or set ACTIONPLANE_CLIENT_SECRET for this process"
    )]
    Missing {
        account: String,
        store: &'static str,
    },
    #[error("the {store} refused the password: {reason}")]
    Refused { store: &'static str, reason: String },
}

/// The credential store the app uses; tests use [`SecretStore::in_memory`].
#[derive(Clone)]
pub struct SecretStore {
    memory: Arc<Mutex<HashMap<String, String>>>,
    system: bool,
}

/// The account name under which a connector's password is kept.
pub fn account(instance: &str, username: &str) -> String {
    format!("{username}@{instance}")
}

/// The account name under which an OAuth application's client secret is kept.
pub fn oauth_account(instance: &str, client_id: &str) -> String {
    format!("oauth-client:{client_id}@{instance}")
}

impl SecretStore {
    /// The real stores of this machine.
    pub fn system() -> Self {
        Self {
            memory: Arc::default(),
            system: true,
        }
    }

    /// A store that never leaves the process, for tests.
    pub fn in_memory() -> Self {
        Self {
            memory: Arc::default(),
            system: false,
        }
    }

    /// Keeps a secret in the strongest store that works here, saying which and why.
    pub fn save(&self, account: &str, secret: &Secret) -> Placement {
        self.remember(account, secret);
        if !self.system {
            return Placement {
                kind: StoreKind::Memory,
                note: "test store".to_owned(),
            };
        }
        let keyring_skip = match secret_service_available() {
            Ok(()) => match with_timeout(keyring_set(
                Backend::SecretService,
                account,
                secret.expose(),
            )) {
                Ok(()) => {
                    return Placement {
                        kind: StoreKind::Keyring,
                        note: String::new(),
                    };
                }
                Err(reason) => reason,
            },
            Err(reason) => reason,
        };
        match with_timeout(keyring_set(Backend::Session, account, secret.expose())) {
            Ok(()) => Placement {
                kind: StoreKind::Session,
                note: format!(
                    "OS keyring skipped: {keyring_skip}. The password is in the kernel session \
                     keyring: other actionplane processes of this login can use it, but it is \
                     lost at logout or reboot. For automation set {SECRET_ENV} instead."
                ),
            },
            Err(session_skip) => Placement {
                kind: StoreKind::Memory,
                note: format!(
                    "OS keyring skipped: {keyring_skip}; session keyring skipped: {session_skip}. \
                     The password is kept for this process only: set {SECRET_ENV} for other \
                     commands."
                ),
            },
        }
    }

    /// Finds the secret of an account: the environment first, then the store it was put in.
    pub fn load(&self, account: &str, kind: StoreKind) -> Result<Secret, SecretError> {
        if let Some(value) = std::env::var(SECRET_ENV).ok().filter(|v| !v.is_empty()) {
            return Ok(Secret::new(value));
        }
        if let Some(value) = self.memory.lock().expect("secret memory").get(account) {
            return Ok(Secret::new(value.clone()));
        }
        let backend = match kind {
            StoreKind::Keyring if self.system => Backend::SecretService,
            StoreKind::Session if self.system => Backend::Session,
            _ => {
                return Err(SecretError::Missing {
                    account: account.to_owned(),
                    store: kind.describe(),
                });
            }
        };
        match with_timeout(keyring_get(backend, account)) {
            Ok(Some(value)) => {
                let secret = Secret::new(value);
                self.remember(account, &secret);
                Ok(secret)
            }
            Ok(None) => Err(SecretError::Missing {
                account: account.to_owned(),
                store: kind.describe(),
            }),
            Err(reason) => Err(SecretError::Refused {
                store: kind.describe(),
                reason,
            }),
        }
    }

    /// Keeps a secret typed for this session only.
    pub fn remember(&self, account: &str, secret: &Secret) {
        self.memory
            .lock()
            .expect("secret memory")
            .insert(account.to_owned(), secret.expose().to_owned());
    }
}

#[derive(Clone, Copy)]
enum Backend {
    SecretService,
    Session,
}

fn secret_service_entry(account: &str) -> keyring::Result<keyring::Entry> {
    let credential =
        keyring::secret_service::SsCredential::new_with_target(None, SERVICE, account)?;
    Ok(keyring::Entry::new_with_credential(Box::new(credential)))
}

/// The kernel session keyring, used directly: the keyring crate also links each key into the
/// persistent keyring, which many hosts (containers, jump hosts) refuse.
mod session {
    use linux_keyutils::{KeyError, KeyRing, KeyRingIdentifier};

    fn description(account: &str) -> String {
        format!("{}:{account}", super::SERVICE)
    }

    fn keyring() -> Result<KeyRing, String> {
        KeyRing::from_special_id(KeyRingIdentifier::Session, false)
            .map_err(|e| format!("no session keyring ({e:?})"))
    }

    pub fn set(account: &str, secret: &str) -> Result<(), String> {
        keyring()?
            .add_key(&description(account), secret.as_bytes())
            .map(|_| ())
            .map_err(|e| format!("the session keyring refused the key ({e:?})"))
    }

    pub fn get(account: &str) -> Result<Option<String>, String> {
        match keyring()?.search(&description(account)) {
            Ok(key) => key
                .read_to_vec()
                .map(|bytes| Some(String::from_utf8_lossy(&bytes).into_owned()))
                .map_err(|e| format!("the session keyring refused to read ({e:?})")),
            Err(KeyError::KeyDoesNotExist | KeyError::KeyExpired | KeyError::KeyRevoked) => {
                Ok(None)
            }
            Err(e) => Err(format!("the session keyring refused the search ({e:?})")),
        }
    }
}

fn keyring_set(
    backend: Backend,
    account: &str,
    secret: &str,
) -> impl FnOnce() -> Result<(), String> + Send + use<> {
    let (account, secret) = (account.to_owned(), secret.to_owned());
    move || match backend {
        Backend::Session => session::set(&account, &secret),
        Backend::SecretService => secret_service_entry(&account)
            .and_then(|e| e.set_password(&secret))
            .map_err(|e| describe_keyring_error(&e)),
    }
}

fn keyring_get(
    backend: Backend,
    account: &str,
) -> impl FnOnce() -> Result<Option<String>, String> + Send + use<> {
    let account = account.to_owned();
    move || match backend {
        Backend::Session => session::get(&account),
        Backend::SecretService => {
            match secret_service_entry(&account).and_then(|e| e.get_password()) {
                Ok(value) => Ok(Some(value)),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(e) => Err(describe_keyring_error(&e)),
            }
        }
    }
}

fn describe_keyring_error(error: &keyring::Error) -> String {
    match error {
        keyring::Error::NoStorageAccess(_) => "the keyring is locked or refused access".to_owned(),
        keyring::Error::PlatformFailure(e) => format!("the keyring failed ({e})"),
        other => other.to_string(),
    }
}

/// Whether a Secret Service could even be reached; says why not in words.
fn secret_service_available() -> Result<(), String> {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        return Err(
            "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset), as on most SSH \
                    jump hosts, so no Secret Service can answer"
                .to_owned(),
        );
    }
    Ok(())
}

/// Runs a keyring call on its own thread and gives up after a few seconds instead of hanging.
fn with_timeout<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(work());
    });
    rx.recv_timeout(PROBE_TIMEOUT).unwrap_or_else(|_| {
        Err(format!(
            "no answer within {} s (locked or asleep?)",
            PROBE_TIMEOUT.as_secs()
        ))
    })
}

/// OAuth tokens of one account, kept where its password is: memory for this process, and the
/// keyring or session keyring when that is the account's store. Never in SQLite or a file.
pub struct CredentialVault {
    store: SecretStore,
    account: String,
    kind: StoreKind,
}

impl CredentialVault {
    pub fn new(store: SecretStore, account: &str, kind: StoreKind) -> Self {
        Self {
            store,
            account: format!("tokens:{account}"),
            kind,
        }
    }

    fn backend(&self) -> Option<Backend> {
        match self.kind {
            StoreKind::Keyring if self.store.system => Some(Backend::SecretService),
            StoreKind::Session if self.store.system => Some(Backend::Session),
            _ => None,
        }
    }
}

impl crate::servicenow::TokenVault for CredentialVault {
    fn load(&self) -> Option<crate::servicenow::OAuthTokens> {
        let remembered = self
            .store
            .memory
            .lock()
            .expect("secret memory")
            .get(&self.account)
            .cloned();
        let text = match (remembered, self.backend()) {
            (Some(text), _) => text,
            (None, Some(backend)) => with_timeout(keyring_get(backend, &self.account))
                .ok()
                .flatten()?,
            (None, None) => return None,
        };
        serde_json::from_str(&text).ok()
    }

    fn save(&self, tokens: &crate::servicenow::OAuthTokens) {
        let Ok(text) = serde_json::to_string(tokens) else {
            return;
        };
        self.store
            .memory
            .lock()
            .expect("secret memory")
            .insert(self.account.clone(), text.clone());
        let kept = self
            .backend()
            .map(|b| with_timeout(keyring_set(b, &self.account, &text)));
        if let Some(Err(reason)) = kept {
            tracing::warn!("OAuth tokens kept for this process only: {reason}");
        }
    }

    fn clear(&self) {
        self.store
            .memory
            .lock()
            .expect("secret memory")
            .remove(&self.account);
        if let Some(backend) = self.backend() {
            // Keyrings cannot hold an empty value: a stale marker makes `load` parse nothing.
            let _ = with_timeout(keyring_set(backend, &self.account, "cleared"));
        }
    }
}
