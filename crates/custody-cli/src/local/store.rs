//! [`CaseStore`] in a SQLite file: cases survive between `custody` commands, so `case show` and
//! `release` find what `run` recorded.
//!
//! One row per case holds the whole record as JSON, plus the columns listing needs. The port
//! contract is enforced in one transaction per write: create-if-absent, `save` only at the expected
//! version (else `Custody.StaleCase`), timeline entries never dropped or rewritten.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;
use custody_core::case::{Case, CaseStatus};
use custody_core::error::StepError;
use custody_core::id::{CaseId, Timestamp};
use custody_steps::ports::{CaseStore, CaseSummary, CreateOutcome};
use rusqlite::{Connection, OptionalExtension as _, params};

/// Cases in a SQLite database file.
pub struct SqliteCaseStore {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl SqliteCaseStore {
    /// Opens (creating if needed) the store at `path`.
    ///
    /// # Errors
    /// `Custody.Internal` naming the file when it cannot be opened or its schema created.
    pub fn open(path: &Path) -> Result<Self, StepError> {
        let conn = Connection::open(path).map_err(|e| db_error(path, "open", &e))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS cases (
                id TEXT PRIMARY KEY,
                version INTEGER NOT NULL,
                status TEXT NOT NULL,
                opened_at_ms INTEGER NOT NULL,
                subject TEXT NOT NULL,
                body TEXT NOT NULL
            );",
        )
        .map_err(|e| db_error(path, "create the schema of", &e))?;
        Ok(Self {
            path: path.to_owned(),
            conn: Mutex::new(conn),
        })
    }

    fn with_conn<T>(
        &self,
        what: &str,
        f: impl FnOnce(&mut Connection) -> Result<T, Failure>,
    ) -> Result<T, StepError> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| StepError::internal("the case store lock is poisoned"))?;
        f(&mut conn).map_err(|e| match e {
            Failure::Db(e) => db_error(&self.path, what, &e),
            Failure::Step(e) => e,
        })
    }
}

/// What a store operation can fail with before it becomes a [`StepError`].
enum Failure {
    Db(rusqlite::Error),
    Step(StepError),
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Self {
        Failure::Db(e)
    }
}

fn db_error(path: &Path, what: &str, e: &rusqlite::Error) -> StepError {
    StepError::internal(format!(
        "cannot {what} the case store {}: {e}",
        path.display()
    ))
}

fn encode(case: &Case) -> Result<String, Failure> {
    serde_json::to_string(case).map_err(|e| {
        Failure::Step(StepError::internal(format!(
            "case {} cannot be encoded: {e}",
            case.id
        )))
    })
}

fn decode(id: &str, body: &str) -> Result<Case, Failure> {
    serde_json::from_str(body).map_err(|e| {
        Failure::Step(StepError::internal(format!(
            "stored case {id:?} is not a valid case record: {e}"
        )))
    })
}

fn parse_status(s: &str) -> Result<CaseStatus, Failure> {
    CaseStatus::ALL
        .into_iter()
        .find(|c| c.as_str() == s)
        .ok_or_else(|| {
            Failure::Step(StepError::internal(format!(
                "stored status {s:?} is unknown"
            )))
        })
}

#[async_trait]
impl CaseStore for SqliteCaseStore {
    async fn create(&self, case: &Case) -> Result<CreateOutcome, StepError> {
        self.with_conn("write a case to", |conn| {
            let tx = conn.transaction()?;
            let existing: Option<String> = tx
                .query_row(
                    "SELECT body FROM cases WHERE id = ?1",
                    params![case.id.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(body) = existing {
                return Ok(CreateOutcome::AlreadyExists(Box::new(decode(
                    case.id.as_str(),
                    &body,
                )?)));
            }
            tx.execute(
                "INSERT INTO cases (id, version, status, opened_at_ms, subject, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    case.id.to_string(),
                    i64::try_from(case.version).unwrap_or(i64::MAX),
                    case.status.as_str(),
                    case.opened_at.unix_millis(),
                    case.request.target.to_string(),
                    encode(case)?
                ],
            )?;
            tx.commit()?;
            Ok(CreateOutcome::Created)
        })
    }

    async fn load(&self, id: &CaseId) -> Result<Option<Case>, StepError> {
        self.with_conn("read a case from", |conn| {
            let body: Option<String> = conn
                .query_row(
                    "SELECT body FROM cases WHERE id = ?1",
                    params![id.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            body.map(|b| decode(id.as_str(), &b)).transpose()
        })
    }

    async fn save(&self, case: &Case, expected_version: u64) -> Result<u64, StepError> {
        self.with_conn("save a case in", |conn| {
            let tx = conn.transaction()?;
            let body: Option<String> = tx
                .query_row(
                    "SELECT body FROM cases WHERE id = ?1",
                    params![case.id.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(body) = body else {
                return Err(Failure::Step(StepError::not_found(format!(
                    "case {} does not exist",
                    case.id
                ))));
            };
            let stored = decode(case.id.as_str(), &body)?;
            if stored.version != expected_version {
                return Err(Failure::Step(StepError::stale_case(format!(
                    "case {} is at version {}, not {expected_version}: reload and re-apply",
                    case.id, stored.version
                ))));
            }
            let kept = stored.timeline.len();
            if case.timeline.get(..kept) != Some(&stored.timeline[..]) {
                return Err(Failure::Step(StepError::conflict(format!(
                    "saving case {} would drop or rewrite timeline entries",
                    case.id
                ))));
            }
            let mut next = case.clone();
            next.version = expected_version + 1;
            tx.execute(
                "UPDATE cases SET version = ?2, status = ?3, subject = ?4, body = ?5 WHERE id = ?1",
                params![
                    case.id.to_string(),
                    i64::try_from(next.version).unwrap_or(i64::MAX),
                    next.status.as_str(),
                    next.request.target.to_string(),
                    encode(&next)?
                ],
            )?;
            tx.commit()?;
            Ok(next.version)
        })
    }

    async fn list(&self, status: Option<CaseStatus>) -> Result<Vec<CaseSummary>, StepError> {
        self.with_conn("list the cases in", |conn| {
            let mut stmt = conn.prepare(
                "SELECT id, status, opened_at_ms, subject FROM cases
                 WHERE ?1 IS NULL OR status = ?1
                 ORDER BY opened_at_ms DESC, id DESC",
            )?;
            let rows = stmt.query_map(params![status.map(CaseStatus::as_str)], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, status, opened_ms, subject) = row?;
                let bad = |what: String| Failure::Step(StepError::internal(what));
                out.push(CaseSummary {
                    case_id: id
                        .parse()
                        .map_err(|e| bad(format!("stored case id {id:?} is invalid: {e}")))?,
                    status: parse_status(&status)?,
                    opened_at: Timestamp::from_unix_millis(opened_ms)
                        .map_err(|e| bad(format!("case {id:?} has an invalid open time: {e}")))?,
                    subject,
                });
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use custody_core::error::ErrorName;
    use custody_core::inventory::Inventory;
    use custody_core::plan::{PlanConfig, plan};
    use custody_core::trigger::{TriggerConfig, parse_start};
    use serde_json::json;

    fn sample(execution: &str, at_ms: i64) -> Case {
        let request = parse_start(
            &json!({
                "target": {"instanceId": "i-0123456789abcdef0"},
                "account": "111122223333", "region": "us-east-1", "isolate": false,
                "requestedBy": "alice@example.com", "reason": "rehearsal"
            }),
            &TriggerConfig::default(),
        )
        .unwrap();
        let at = Timestamp::from_unix_millis(at_ms).unwrap();
        let inv = Inventory::default();
        let p = plan(&request, &inv, &PlanConfig::default());
        Case::open(
            CaseId::for_execution(at, execution),
            execution.to_string(),
            request,
            inv,
            p,
            at,
        )
    }

    fn store() -> (tempfile::TempDir, SqliteCaseStore) {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteCaseStore::open(&dir.path().join("cases.sqlite")).unwrap();
        (dir, s)
    }

    #[tokio::test]
    async fn create_is_create_if_absent() {
        let (_d, s) = store();
        let case = sample("a", 1_700_000_000_000);
        assert_eq!(s.create(&case).await.unwrap(), CreateOutcome::Created);
        let mut other = case.clone();
        other.execution_id = "another".into();
        match s.create(&other).await.unwrap() {
            CreateOutcome::AlreadyExists(found) => assert_eq!(*found, case),
            CreateOutcome::Created => panic!("created twice"),
        }
        assert_eq!(s.load(&case.id).await.unwrap(), Some(case));
    }

    #[tokio::test]
    async fn save_is_versioned() {
        let (_d, s) = store();
        let case = sample("a", 1_700_000_000_000);
        s.create(&case).await.unwrap();
        assert_eq!(s.save(&case, case.version).await.unwrap(), case.version + 1);
        let err = s.save(&case, case.version).await.unwrap_err();
        assert_eq!(err.name, ErrorName::StaleCase);
        let loaded = s.load(&case.id).await.unwrap().unwrap();
        assert_eq!(loaded.version, case.version + 1);
    }

    #[tokio::test]
    async fn timeline_is_append_only() {
        let (_d, s) = store();
        let mut case = sample("a", 1_700_000_000_000);
        let at = case.opened_at;
        case.note("test", "note", "first", at);
        s.create(&case).await.unwrap();
        let mut rewritten = case.clone();
        rewritten.timeline.pop();
        let err = s.save(&rewritten, case.version).await.unwrap_err();
        assert_eq!(err.name, ErrorName::Conflict);
        let mut appended = case.clone();
        appended.note("test", "note", "second", at);
        s.save(&appended, case.version).await.unwrap();
        assert_eq!(
            s.load(&case.id).await.unwrap().unwrap().timeline,
            appended.timeline
        );
    }

    #[tokio::test]
    async fn saving_a_missing_case_is_not_found() {
        let (_d, s) = store();
        let err = s
            .save(&sample("a", 1_700_000_000_000), 0)
            .await
            .unwrap_err();
        assert_eq!(err.name, ErrorName::NotFound);
    }

    #[tokio::test]
    async fn list_is_newest_first_and_filters_by_status() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cases.sqlite");
        let s = SqliteCaseStore::open(&path).unwrap();
        let old = sample("old", 1_700_000_000_000);
        let mut new = sample("new", 1_700_000_060_000);
        new.status = CaseStatus::Failed;
        s.create(&old).await.unwrap();
        s.create(&new).await.unwrap();
        drop(s);
        // A later command (a new connection) sees the same cases.
        let s = SqliteCaseStore::open(&path).unwrap();
        let all = s.list(None).await.unwrap();
        assert_eq!(
            all.iter().map(|c| c.case_id.clone()).collect::<Vec<_>>(),
            [new.id.clone(), old.id.clone()]
        );
        let failed = s.list(Some(CaseStatus::Failed)).await.unwrap();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].case_id, new.id);
    }
}
