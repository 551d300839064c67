//! Checkpoints: an append-only log written after every transition, so an interrupted (or
//! failed) local execution can be resumed — redriven — without invoking the tasks that already
//! succeeded.
//!
//! Replay works by *stable task address*: every Task (and Wait) has an address made of its
//! scope (branch index, Map item index), its name, and how many times that scope has entered it
//! (`/Acquire/branch/0/MemoryPerNode/item/3/CaptureMemory#1`). Re-running the definition from
//! the start with the same input reaches the same addresses in the same order; a recorded
//! success is reused instead of invoking the task, a recorded completed Wait is not waited
//! again. Failed tasks are not recorded, so they run again (Step Functions' redrive does the
//! same). A log written by a different definition is refused.

use crate::executor::{ExecutionInfo, ExecutionStatus};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One entry of the checkpoint log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "camelCase")]
pub enum CheckpointRecord {
    /// The execution began: what it runs and with what.
    #[serde(rename_all = "camelCase")]
    Started {
        /// [`crate::Definition::sha256`] of the definition.
        definition_sha256: String,
        /// Name, ARNs and start time (reused on resume so `$$.Execution` is unchanged).
        execution: ExecutionInfo,
        /// The execution input.
        input: Value,
    },
    /// The execution was resumed from this log.
    #[serde(rename_all = "camelCase")]
    Redriven {
        /// How many times it has been resumed, this one included.
        redrive_count: u32,
    },
    /// A task at `address` succeeded with `output` (its raw result, before `ResultSelector`).
    #[serde(rename_all = "camelCase")]
    TaskSucceeded {
        /// The stable task address.
        address: String,
        /// The task's result.
        output: Value,
    },
    /// A Wait at `address` completed.
    WaitCompleted {
        /// The stable state address.
        address: String,
    },
    /// The state at `address` completed (progress marker).
    Transition {
        /// The stable state address.
        address: String,
    },
    /// The execution ended.
    Finished {
        /// How.
        status: ExecutionStatus,
    },
}

/// Why a checkpoint could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The log file could not be read or written.
    #[error("checkpoint file {path:?} could not be accessed")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A line of the log is not a checkpoint record.
    #[error("checkpoint file {path:?} line {line} is not a checkpoint record")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// A record could not be serialised.
    #[error("checkpoint record could not be serialised")]
    Encode(#[source] serde_json::Error),
}

/// Where checkpoint records go.
#[async_trait]
pub trait CheckpointStore: Send + Sync {
    /// Every record written so far, in order (empty for a new execution).
    ///
    /// # Errors
    /// When the log cannot be read.
    async fn load(&self) -> Result<Vec<CheckpointRecord>, CheckpointError>;

    /// Appends one record durably enough to survive the process.
    ///
    /// # Errors
    /// When the record cannot be written; the execution then stops rather than run on without
    /// a checkpoint.
    async fn append(&self, record: &CheckpointRecord) -> Result<(), CheckpointError>;
}

/// An in-memory log: for tests and for resuming within one process.
#[derive(Debug, Default)]
pub struct MemoryCheckpointStore {
    records: Mutex<Vec<CheckpointRecord>>,
}

impl MemoryCheckpointStore {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of the records.
    pub fn records(&self) -> Vec<CheckpointRecord> {
        self.records.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl CheckpointStore for MemoryCheckpointStore {
    async fn load(&self) -> Result<Vec<CheckpointRecord>, CheckpointError> {
        Ok(self.records())
    }

    async fn append(&self, record: &CheckpointRecord) -> Result<(), CheckpointError> {
        if let Ok(mut r) = self.records.lock() {
            r.push(record.clone());
        }
        Ok(())
    }
}

/// A JSON-lines file, one record per line, appended and flushed per record (it survives the
/// process dying; it is not fsync'ed per record, so not necessarily a power cut). A torn last
/// line — the process died mid-write — is ignored on load.
#[derive(Debug)]
pub struct FileCheckpointStore {
    path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
}

impl FileCheckpointStore {
    /// A log at `path` (created on first append).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            file: Mutex::new(None),
        }
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: std::io::Error) -> CheckpointError {
        CheckpointError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

#[async_trait]
impl CheckpointStore for FileCheckpointStore {
    async fn load(&self) -> Result<Vec<CheckpointRecord>, CheckpointError> {
        let file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io(e)),
        };
        let lines: Vec<String> = std::io::BufReader::new(file)
            .lines()
            .collect::<Result<_, _>>()
            .map_err(|e| self.io(e))?;
        let mut out = Vec::with_capacity(lines.len());
        for (i, line) in lines.iter().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str(line) {
                Ok(r) => out.push(r),
                Err(_) if i + 1 == lines.len() => break,
                Err(source) => {
                    return Err(CheckpointError::Corrupt {
                        path: self.path.clone(),
                        line: i + 1,
                        source,
                    });
                }
            }
        }
        Ok(out)
    }

    async fn append(&self, record: &CheckpointRecord) -> Result<(), CheckpointError> {
        let mut line = serde_json::to_vec(record).map_err(CheckpointError::Encode)?;
        line.push(b'\n');
        let mut guard = self
            .file
            .lock()
            .map_err(|_| self.io(std::io::Error::other("checkpoint file lock poisoned")))?;
        if guard.is_none() {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|e| self.io(e))?;
            *guard = Some(f);
        }
        if let Some(f) = guard.as_mut() {
            f.write_all(&line)
                .and_then(|()| f.flush())
                .map_err(|e| self.io(e))?;
        }
        Ok(())
    }
}
