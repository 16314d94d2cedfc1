//! Background tasks: a runner does the work, each task keeps a cancellation token beside it, and
//! every task ends with exactly one `Finished` message, a panic included.

use std::sync::Arc;
use std::time::Instant;

use futures::future::BoxFuture;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio_util::sync::CancellationToken;

use super::message::{Data, Job, Message, TaskError, TaskId};
use crate::servicenow::{Progress, ProgressSink};

/// Does the work of a job; the app never calls the workspace itself.
pub trait Runner: Send + Sync {
    /// Runs one job, sending what it learns through `out`.
    fn run(&self, job: Job, out: Outbox) -> BoxFuture<'static, Result<(), TaskError>>;
}

/// The sending end a task writes its data and progress to, with the task's cancel token.
#[derive(Clone, Debug)]
pub struct Outbox {
    task: TaskId,
    tx: UnboundedSender<Message>,
    cancel: CancellationToken,
}

impl Outbox {
    /// Sends a result to the app. A closed app means nobody is left to tell, so it is dropped.
    pub fn send(&self, data: Data) {
        let _ = self.tx.send(Message::from(data));
    }

    /// Says what the task is doing now.
    pub fn progress(&self, text: impl Into<String>) {
        let _ = self.tx.send(Message::Progress {
            task: self.task,
            text: text.into(),
        });
    }

    /// A sink that forwards the client's progress of this task into the app's queue.
    pub fn progress_sink(&self) -> ProgressSink {
        let (task, tx) = (self.task, self.tx.clone());
        Arc::new(move |progress: Progress| {
            let _ = tx.send(Message::Remote { task, progress });
        })
    }

    /// The token Esc cancels for this task.
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// The task this outbox belongs to.
    pub fn task(&self) -> TaskId {
        self.task
    }
}

/// The latest remote progress of a task and when it arrived, so a retry can count down.
#[derive(Clone, Debug)]
pub struct RemoteProgress {
    pub progress: Progress,
    pub at: Instant,
}

impl RemoteProgress {
    /// The progress line at `now`: a retry's wait counts down in whole seconds.
    pub fn line(&self, now: Instant) -> String {
        let Progress::Retrying {
            what,
            wait,
            attempt,
            of,
            ..
        } = &self.progress
        else {
            return self.progress.to_string();
        };
        let left = wait.saturating_sub(now.saturating_duration_since(self.at));
        // Rounded up, so a two-second wait reads 2, then 1, then that it went out again.
        let seconds = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        if seconds == 0 {
            format!("sent {what} again (attempt {attempt} of {of})")
        } else {
            format!("retrying {what} in {seconds} s (attempt {attempt} of {of})")
        }
    }
}

/// One task that has not finished yet.
#[derive(Debug)]
pub struct RunningTask {
    pub id: TaskId,
    /// What it is doing, in words.
    pub label: String,
    pub cancellable: bool,
    /// A quick local read: Esc passes over it.
    pub quick: bool,
    /// What the instance reads reported last, if anything.
    pub remote: Option<RemoteProgress>,
    token: CancellationToken,
}

/// The running tasks and the queue their messages arrive on.
pub struct Tasks {
    runner: Option<Arc<dyn Runner>>,
    tx: UnboundedSender<Message>,
    rx: UnboundedReceiver<Message>,
    running: Vec<RunningTask>,
    next_id: TaskId,
    /// Jobs asked for while no runner is attached (screen tests read them).
    detached: Vec<Job>,
}

impl Tasks {
    /// A task set that runs jobs with `runner`, or records them when there is none.
    pub fn new(runner: Option<Arc<dyn Runner>>) -> Self {
        let (tx, rx) = unbounded_channel();
        Self {
            runner,
            tx,
            rx,
            running: Vec::new(),
            next_id: 1,
            detached: Vec::new(),
        }
    }

    /// Starts a job in the background; must be called inside a tokio runtime when a runner
    /// is attached.
    pub fn start(&mut self, job: Job) {
        let Some(runner) = self.runner.clone() else {
            self.detached.push(job);
            return;
        };
        let id = self.next_id;
        self.next_id += 1;
        let token = CancellationToken::new();
        let task = RunningTask {
            id,
            label: job.label(),
            cancellable: job.cancellable(),
            quick: job.is_quick_read(),
            remote: None,
            token,
        };
        spawn(
            runner.as_ref(),
            id,
            job,
            task.token.clone(),
            self.tx.clone(),
        );
        self.running.push(task);
    }

    /// Forgets a task that ended; `None` when it was cancelled before.
    pub fn finish(&mut self, id: TaskId) -> Option<RunningTask> {
        let index = self.running.iter().position(|t| t.id == id)?;
        Some(self.running.remove(index))
    }

    /// Updates what a task is doing.
    pub fn set_progress(&mut self, id: TaskId, text: String) {
        if let Some(task) = self.running.iter_mut().find(|t| t.id == id) {
            task.label = text;
            // A new phase: what the reads of the last one reported no longer applies.
            task.remote = None;
        }
    }

    /// Records a task's latest remote progress, stamped with when it arrived.
    pub fn set_remote(&mut self, id: TaskId, progress: Progress, at: Instant) {
        if let Some(task) = self.running.iter_mut().find(|t| t.id == id) {
            task.remote = Some(RemoteProgress { progress, at });
        }
    }

    /// Cancels the newest cancellable task that is not a quick read and returns its label.
    pub fn cancel_newest(&mut self) -> Option<String> {
        let index = self
            .running
            .iter()
            .rposition(|t| t.cancellable && !t.quick)?;
        let task = self.running.remove(index);
        task.token.cancel();
        Some(task.label)
    }

    /// Cancels everything that may be cancelled (on quit).
    pub fn cancel_all(&mut self) {
        for task in self.running.iter().filter(|t| t.cancellable) {
            task.token.cancel();
        }
    }

    /// Whether no task is running.
    pub fn is_idle(&self) -> bool {
        self.running.is_empty()
    }

    /// The newest running task, for the spinner.
    pub fn newest(&self) -> Option<&RunningTask> {
        self.running.last()
    }

    /// Whether a task that may not be interrupted (an execution) is running.
    pub fn has_uninterruptible(&self) -> bool {
        self.running.iter().any(|t| !t.cancellable)
    }

    /// Whether a runner executes jobs (false in screen tests).
    pub fn is_attached(&self) -> bool {
        self.runner.is_some()
    }

    /// The jobs asked for while detached.
    pub fn detached_jobs(&self) -> &[Job] {
        &self.detached
    }

    /// A message that is already waiting, if any.
    pub fn try_recv(&mut self) -> Option<Message> {
        self.rx.try_recv().ok()
    }

    /// Waits for the next message.
    pub async fn recv(&mut self) -> Option<Message> {
        self.rx.recv().await
    }

    /// A sender for messages from outside a task (signals in the event loop).
    pub fn sender(&self) -> UnboundedSender<Message> {
        self.tx.clone()
    }
}

fn spawn(
    runner: &dyn Runner,
    id: TaskId,
    job: Job,
    token: CancellationToken,
    tx: UnboundedSender<Message>,
) {
    let cancellable = job.cancellable();
    let work = runner.run(
        job,
        Outbox {
            task: id,
            tx: tx.clone(),
            cancel: token.clone(),
        },
    );
    let inner = tokio::spawn(async move {
        if !cancellable {
            return work.await;
        }
        tokio::select! {
            biased;
            () = token.cancelled() => Err(TaskError::cancelled()),
            result = work => result,
        }
    });
    tokio::spawn(async move {
        let result = inner.await.unwrap_or_else(|e| {
            let text = format!("the task stopped unexpectedly ({e}); the log file has details");
            Err(TaskError::new("internal", text))
        });
        let _ = tx.send(Message::Finished { task: id, result });
    });
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn retry(wait: Duration) -> Progress {
        Progress::Retrying {
            what: "the table incident".to_owned(),
            wait,
            attempt: 2,
            of: 3,
            reason: "rate-limited",
        }
    }

    #[test]
    fn a_retry_counts_down_each_second_then_says_it_went_out() {
        let at = Instant::now();
        let remote = RemoteProgress {
            progress: retry(Duration::from_secs(2)),
            at,
        };
        let line = |ms| remote.line(at + Duration::from_millis(ms));
        assert_eq!(
            line(0),
            "retrying the table incident in 2 s (attempt 2 of 3)"
        );
        assert_eq!(
            line(300),
            "retrying the table incident in 2 s (attempt 2 of 3)"
        );
        assert_eq!(
            line(1_100),
            "retrying the table incident in 1 s (attempt 2 of 3)"
        );
        assert_eq!(
            line(2_000),
            "sent the table incident again (attempt 2 of 3)"
        );
        assert_eq!(
            line(9_000),
            "sent the table incident again (attempt 2 of 3)"
        );
    }

    #[test]
    fn pages_read_as_the_client_words_them() {
        let remote = RemoteProgress {
            progress: Progress::Loaded {
                what: "choices of incident".to_owned(),
                loaded: 2,
                total: Some(5),
            },
            at: Instant::now(),
        };
        assert_eq!(
            remote.line(Instant::now()),
            "loaded 2 of 5 choices of incident"
        );
    }
}
