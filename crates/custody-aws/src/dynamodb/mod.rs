//! The case store on DynamoDB: one table, one item collection per case (see `SCHEMA.md`).
//!
//! The case item carries the version that makes writes optimistic: `save` is one transaction
//! whose case item is conditioned on the version the caller loaded, and whose new timeline items
//! are conditioned on not existing, so two writers never lose an update and the timeline only
//! ever grows.

mod items;
mod table;

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use custody_core::case::{Case, CaseStatus};
use custody_core::error::{ErrorName, StepError};
use custody_core::id::CaseId;
use custody_steps::ports::{CaseStore, CaseSummary, CreateOutcome};
use tracing::Instrument;

use self::items::{CaseParts, StoredCase, case_key, summary_from_item};
use crate::error::{sdk_error, step_error};

pub use self::table::create_table;

/// DynamoDB's most items in one transaction.
const MAX_TRANSACTION_ITEMS: usize = 100;

/// The case table.
#[derive(Debug, Clone)]
pub struct DynamoCases {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoCases {
    /// Cases in `table`, through a client built by this crate.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Every item of a case, strongly consistent.
    async fn read(&self, id: &CaseId) -> Result<Option<StoredCase>, StepError> {
        let context = format!("dynamodb:Query for {id}");
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(case_key(id)))
            .consistent_read(true)
            .into_paginator()
            .send();
        let mut items = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error(&context, e))?;
            items.extend(page.items().iter().cloned());
        }
        StoredCase::from_items(&context, items)
    }

    fn put(
        &self,
        item: BTreeMap<String, AttributeValue>,
        condition: Option<Condition>,
    ) -> TransactWriteItem {
        let mut put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item.into_iter().collect()));
        match condition {
            Some(Condition::New) => {
                put = put.condition_expression("attribute_not_exists(sk)");
            }
            Some(Condition::NewCase) => {
                put = put.condition_expression("attribute_not_exists(pk)");
            }
            Some(Condition::Version(expected)) => {
                put = put
                    .condition_expression("#version = :expected")
                    .expression_attribute_names("#version", "version")
                    .expression_attribute_values(
                        ":expected",
                        AttributeValue::N(expected.to_string()),
                    );
            }
            None => {}
        }
        // `Put::build` fails only without a table name or item, both always set here.
        TransactWriteItem::builder()
            .set_put(put.build().ok())
            .build()
    }

    async fn transact(
        &self,
        context: &str,
        writes: Vec<TransactWriteItem>,
    ) -> Result<(), Conflict> {
        if writes.len() > MAX_TRANSACTION_ITEMS {
            return Err(Conflict::Other(step_error(
                ErrorName::Internal,
                format!(
                    "{context}: {} items to write at once, DynamoDB takes at most {MAX_TRANSACTION_ITEMS} in one transaction",
                    writes.len()
                ),
                None,
                None,
            )));
        }
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => Err(classify(context, e)),
        }
    }
}

/// The condition on one put.
enum Condition {
    /// The case item does not exist yet.
    NewCase,
    /// The list item does not exist yet.
    New,
    /// The stored case item has this version.
    Version(u64),
}

/// Why a transaction did not happen.
enum Conflict {
    /// An item of the transaction failed its condition (someone else wrote first), or DynamoDB
    /// cancelled it because another transaction was writing the same items at that moment
    /// (`TransactionConflict`): either way the caller reloads and tries again.
    Condition(StepError),
    /// Anything else.
    Other(StepError),
}

fn classify(
    context: &str,
    err: SdkError<
        TransactWriteItemsError,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> Conflict {
    let failed = match &err {
        SdkError::ServiceError(service) => match service.err() {
            TransactWriteItemsError::TransactionCanceledException(cancelled) => {
                cancelled.cancellation_reasons().iter().any(|r| {
                    matches!(
                        r.code(),
                        Some("ConditionalCheckFailed" | "TransactionConflict")
                    )
                })
            }
            _ => false,
        },
        _ => false,
    };
    let mut error = sdk_error(context, err);
    if failed {
        error.name = ErrorName::StaleCase;
        Conflict::Condition(error)
    } else {
        Conflict::Other(error)
    }
}

#[async_trait]
impl CaseStore for DynamoCases {
    async fn create(&self, case: &Case) -> Result<CreateOutcome, StepError> {
        let span = tracing::info_span!("case_store.create", case_id = %case.id);
        self.create_case(case).instrument(span).await
    }

    async fn load(&self, id: &CaseId) -> Result<Option<Case>, StepError> {
        let context = format!("loading {id}");
        match self
            .read(id)
            .instrument(tracing::info_span!("case_store.load", case_id = %id))
            .await?
        {
            Some(stored) => stored.into_case(&context).map(Some),
            None => Ok(None),
        }
    }

    async fn save(&self, case: &Case, expected_version: u64) -> Result<u64, StepError> {
        let span = tracing::info_span!("case_store.save", case_id = %case.id, expected_version);
        self.save_case(case, expected_version)
            .instrument(span)
            .await
    }

    async fn list(&self, status: Option<CaseStatus>) -> Result<Vec<CaseSummary>, StepError> {
        self.list_cases(status).await
    }
}

impl DynamoCases {
    async fn create_case(&self, case: &Case) -> Result<CreateOutcome, StepError> {
        let context = format!("dynamodb:TransactWriteItems creating {}", case.id);
        let parts = CaseParts::of(&context, case)?;
        let mut writes = vec![self.put(parts.case_item(case.version), Some(Condition::NewCase))];
        for finding in &parts.findings {
            writes.push(self.put(parts.finding_item(finding), Some(Condition::New)));
        }
        for (kind, list) in parts.lists() {
            for index in 0..list.len() {
                writes.push(self.put(parts.list_item(kind, index), Some(Condition::New)));
            }
        }
        match self.transact(&context, writes).await {
            Ok(()) => Ok(CreateOutcome::Created),
            Err(Conflict::Condition(_)) => match self.read(&case.id).await? {
                Some(stored) => Ok(CreateOutcome::AlreadyExists(Box::new(
                    stored.into_case(&context)?,
                ))),
                None => Err(step_error(
                    ErrorName::StaleCase,
                    format!("{context}: the case collection exists without its case item; retry"),
                    None,
                    None,
                )),
            },
            Err(Conflict::Other(e)) => Err(e),
        }
    }

    async fn save_case(&self, case: &Case, expected_version: u64) -> Result<u64, StepError> {
        let context = format!(
            "dynamodb:TransactWriteItems saving {} over version {expected_version}",
            case.id
        );
        let stored = self.read(&case.id).await?.ok_or_else(|| {
            step_error(
                ErrorName::NotFound,
                format!("{context}: no such case"),
                None,
                None,
            )
        })?;
        if stored.version != expected_version {
            return Err(step_error(
                ErrorName::StaleCase,
                format!(
                    "{context}: the stored case is at version {}",
                    stored.version
                ),
                None,
                None,
            ));
        }
        let new_version = expected_version.checked_add(1).ok_or_else(|| {
            step_error(
                ErrorName::Internal,
                format!("{context}: version overflow"),
                None,
                None,
            )
        })?;
        let parts = CaseParts::of(&context, case)?;
        let mut writes = vec![self.put(
            parts.case_item(new_version),
            Some(Condition::Version(expected_version)),
        )];
        for finding in &parts.findings {
            if !stored.findings.contains(finding) {
                writes.push(self.put(parts.finding_item(finding), Some(Condition::New)));
            }
        }
        for (kind, list) in parts.lists() {
            let before = stored.list(kind);
            if list.len() < before.len() {
                return Err(crate::error::invalid(format!(
                    "{context}: the case has {} {} item(s), {} are stored: nothing is ever removed",
                    list.len(),
                    kind.name(),
                    before.len()
                )));
            }
            for (index, body) in list.iter().enumerate() {
                match before.get(index) {
                    None => {
                        writes.push(self.put(parts.list_item(kind, index), Some(Condition::New)))
                    }
                    Some(old) if old == body => {}
                    Some(old) => {
                        if kind.is_append_only() || items::item_id(old) != items::item_id(body) {
                            return Err(crate::error::invalid(format!(
                                "{context}: {} item {index} differs from the stored one: {} items are never rewritten",
                                kind.name(),
                                kind.name()
                            )));
                        }
                        writes.push(self.put(parts.list_item(kind, index), None));
                    }
                }
            }
        }
        match self.transact(&context, writes).await {
            Ok(()) => Ok(new_version),
            Err(Conflict::Condition(error)) => Err(error),
            Err(Conflict::Other(e)) => Err(e),
        }
    }

    async fn list_cases(&self, status: Option<CaseStatus>) -> Result<Vec<CaseSummary>, StepError> {
        let statuses = match status {
            Some(s) => vec![s],
            None => items::all_statuses(),
        };
        let mut summaries = Vec::new();
        for status in statuses {
            let key = items::status_key(&status)?;
            let context = format!("dynamodb:Query gsi2 for {key}");
            let mut pages = self
                .client
                .query()
                .table_name(&self.table)
                .index_name("gsi2")
                .key_condition_expression("gsi2pk = :s")
                .expression_attribute_values(":s", AttributeValue::S(key))
                .scan_index_forward(false)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| sdk_error(&context, e))?;
                for item in page.items() {
                    summaries.push(summary_from_item(&context, item)?);
                }
            }
        }
        summaries.sort_by(|a, b| {
            b.opened_at
                .cmp(&a.opened_at)
                .then_with(|| b.case_id.cmp(&a.case_id))
        });
        Ok(summaries)
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::types::CancellationReason;
    use aws_sdk_dynamodb::types::error::TransactionCanceledException;
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    use super::*;

    fn cancelled(codes: &[&str]) -> Conflict {
        let reasons = codes
            .iter()
            .map(|c| CancellationReason::builder().code(*c).build())
            .collect();
        let err = TransactWriteItemsError::TransactionCanceledException(
            TransactionCanceledException::builder()
                .message("Transaction cancelled")
                .set_cancellation_reasons(Some(reasons))
                .build(),
        );
        let response = HttpResponse::new(StatusCode::try_from(400).unwrap(), SdkBody::empty());
        classify("saving", SdkError::service_error(err, response))
    }

    #[test]
    fn a_failed_condition_or_a_concurrent_transaction_is_a_stale_case() {
        for codes in [
            &["None", "ConditionalCheckFailed"][..],
            &["TransactionConflict", "None"][..],
        ] {
            match cancelled(codes) {
                Conflict::Condition(e) => assert_eq!(e.name, ErrorName::StaleCase, "{codes:?}"),
                Conflict::Other(e) => panic!("{codes:?} was not a conflict: {e:?}"),
            }
        }
    }

    #[test]
    fn other_cancellations_are_not_retried_as_conflicts() {
        assert!(matches!(
            cancelled(&["ValidationError"]),
            Conflict::Other(_)
        ));
    }
}
