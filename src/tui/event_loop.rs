//! The loop: terminal events and task messages go through the app's one dispatch, and a frame
//! is drawn only once both queues are drained.

use std::io;
use std::task::Poll;
use std::time::Duration;

use crossterm::event::Event;

use futures::{Stream, StreamExt};
use tokio::time::MissedTickBehavior;

use super::app::App;

/// How often the spinner moves while a task runs.
const TICK: Duration = Duration::from_millis(120);

/// Runs the app until it quits, the event stream ends, or the process is told to stop.
pub async fn drive<S, D>(app: &mut App, mut events: S, mut draw: D) -> anyhow::Result<()>
where
    S: Stream<Item = io::Result<Event>> + Unpin,
    D: FnMut(&mut App) -> io::Result<()>,
{
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut stop = Termination::new();
    draw(app)?;
    loop {
        let busy = app.is_busy();
        tokio::select! {
            event = events.next() => match event {
                Some(event) => app.handle_event(event?),
                None => break,
            },
            _ = app.next_message() => {}
            _ = ticker.tick(), if busy => app.on_tick(),
            () = stop.recv() => break,
        }
        // Poll with this task's own waker (never a no-op one): a stream that registers its
        // waker once, like crossterm's, must be able to wake the loop later.
        while let Poll::Ready(Some(event)) = futures::poll!(events.next()) {
            app.handle_event(event?);
        }
        app.drain();
        if app.should_quit() {
            break;
        }
        draw(app)?;
    }
    Ok(())
}

/// SIGTERM and SIGHUP (a dropped SSH session) end the loop so the terminal is restored.
struct Termination {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    hangup: Option<tokio::signal::unix::Signal>,
}

impl Termination {
    fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self {
                term: signal(SignalKind::terminate()).ok(),
                hangup: signal(SignalKind::hangup()).ok(),
            }
        }
        #[cfg(not(unix))]
        {
            Self {}
        }
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        {
            let term = async {
                match self.term.as_mut() {
                    Some(signal) => signal.recv().await,
                    None => std::future::pending().await,
                }
            };
            let hangup = async {
                match self.hangup.as_mut() {
                    Some(signal) => signal.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = term => {}
                _ = hangup => {}
            }
        }
        #[cfg(not(unix))]
        std::future::pending::<()>().await;
    }
}
