//! Which step dusk-consensus is in, read from its own tracing events: `Start step loop`
//! (debug, with `step`, `round`, `iter`) when a step starts waiting, and `Step timeout expired`
//! (info) when its timer fires. The crate has no other way to show it; the events are
//! dusk-consensus 1.7.0's, pinned with the crate.

use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// The crate's position as its events show it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Position {
    /// Round of the last step started.
    pub round: u64,
    /// Iteration of the last step started.
    pub iteration: u8,
    /// `Proposal`, `Validation` or `Ratification`; empty before the first step.
    pub step: String,
    /// Step timers fired so far.
    pub timeouts: u64,
}

/// A tracing layer recording [`Position`].
#[derive(Clone, Default)]
pub struct StepLog(pub Arc<Mutex<Position>>);

#[derive(Default)]
struct Fields {
    event: String,
    step: String,
    round: Option<u64>,
    iter: Option<u64>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "event" {
            self.event = value.to_owned();
        }
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "round" => self.round = Some(value),
            "iter" => self.iter = Some(value),
            _ => {}
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.record_u64(field, u64::try_from(value).unwrap_or(0));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "step" => self.step = format!("{value:?}"),
            "event" => self.event = format!("{value:?}").trim_matches('"').to_owned(),
            _ => {}
        }
    }
}

impl<S: Subscriber> Layer<S> for StepLog {
    fn enabled(&self, metadata: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        // Only the crate's debug and info events: its trace-level events format whole
        // messages.
        metadata.target().starts_with("dusk_consensus") && *metadata.level() <= Level::DEBUG
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut f = Fields::default();
        event.record(&mut f);
        let Ok(mut p) = self.0.lock() else { return };
        match f.event.as_str() {
            "Start step loop" => {
                p.round = f.round.unwrap_or(p.round);
                p.iteration = f
                    .iter
                    .map_or(p.iteration, |i| u8::try_from(i).unwrap_or(u8::MAX));
                p.step = f.step;
            }
            "Step timeout expired" => p.timeouts += 1,
            _ => {}
        }
    }
}
