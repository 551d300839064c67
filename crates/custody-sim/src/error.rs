//! Errors of loading, validating and saving a world.

/// Why a world could not be loaded or saved.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    /// The JSON does not match the world format (unknown field, bad id, wrong type).
    #[error("world JSON is not valid at {path}: {message}")]
    Parse {
        /// JSON path of the offending value (`$.accounts[0].instances[1].id`).
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// The JSON parses but contradicts itself (an ENI in a subnet that does not exist, a node
    /// whose instance is missing).
    #[error("world is inconsistent at {path}: {reason}")]
    Invalid {
        /// JSON path of the offending value.
        path: String,
        /// Why it is wrong.
        reason: String,
    },
    /// The world could not be written as JSON.
    #[error("could not write the world as JSON")]
    Serialize(#[source] serde_json::Error),
}

impl WorldError {
    /// The JSON path the error is about, if any.
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::Parse { path, .. } | Self::Invalid { path, .. } => Some(path),
            Self::Serialize(_) => None,
        }
    }
}

/// An inconsistency at a path.
pub(crate) fn invalid(path: impl Into<String>, reason: impl Into<String>) -> WorldError {
    WorldError::Invalid {
        path: path.into(),
        reason: reason.into(),
    }
}
