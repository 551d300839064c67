//! Recording: history events (numbered, linked to the previous event of their thread, shown to
//! the observer) and checkpoint records.

use crate::checkpoint::{CheckpointRecord, CheckpointStore};
use crate::clock::Clock;
use crate::error::Failure;
use crate::history::{EventType, HistoryEvent, Observer};
use serde_json::{Map, Value};
use std::sync::{Arc, Mutex};

/// Why a run stops other than by a state machine outcome being decided.
#[derive(Debug)]
pub(crate) enum Halt {
    /// A failure that is not (or not yet) handled.
    Failed(Failure),
    /// The engine could not checkpoint.
    Checkpoint(crate::checkpoint::CheckpointError),
}

impl From<Failure> for Halt {
    fn from(f: Failure) -> Self {
        Halt::Failed(f)
    }
}

pub(crate) struct Recorder {
    events: Mutex<Vec<HistoryEvent>>,
    observer: Option<Arc<dyn Observer>>,
    clock: Arc<dyn Clock>,
    store: Option<Arc<dyn CheckpointStore>>,
}

impl Recorder {
    pub(crate) fn new(
        clock: Arc<dyn Clock>,
        observer: Option<Arc<dyn Observer>>,
        store: Option<Arc<dyn CheckpointStore>>,
    ) -> Self {
        Self {
            events: Mutex::new(Vec::new()),
            observer,
            clock,
            store,
        }
    }

    /// Records an event after `prev` and returns its id.
    pub(crate) fn emit(
        &self,
        prev: u64,
        event_type: EventType,
        details: Map<String, Value>,
    ) -> u64 {
        let timestamp = self.clock.now();
        let event = {
            let Ok(mut events) = self.events.lock() else {
                return prev;
            };
            let id = events.len() as u64 + 1;
            let e = HistoryEvent {
                id,
                previous_event_id: prev,
                timestamp,
                event_type,
                details,
            };
            if self.observer.is_none() {
                events.push(e);
                return id;
            }
            events.push(e.clone());
            e
        };
        if let Some(o) = &self.observer {
            o.on_event(&event);
        }
        event.id
    }

    /// The id of the most recent event.
    pub(crate) fn last_id(&self) -> u64 {
        self.events.lock().map(|e| e.len() as u64).unwrap_or(0)
    }

    pub(crate) fn take(&self) -> Vec<HistoryEvent> {
        self.events
            .lock()
            .map(|mut e| std::mem::take(&mut *e))
            .unwrap_or_default()
    }

    pub(crate) async fn checkpoint(&self, record: CheckpointRecord) -> Result<(), Halt> {
        match &self.store {
            Some(store) => store.append(&record).await.map_err(Halt::Checkpoint),
            None => Ok(()),
        }
    }
}
