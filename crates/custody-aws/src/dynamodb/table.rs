//! The table's shape, for emulators and local runs (the CDK stack creates it in AWS).

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use custody_core::error::StepError;

use crate::error::{invalid, sdk_error};

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, StepError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(|e| invalid(format!("key {name}: {e}")))
}

fn attribute(name: &str) -> Result<AttributeDefinition, StepError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(|e| invalid(format!("attribute {name}: {e}")))
}

fn index(name: &str, pk: &str, sk: &str) -> Result<GlobalSecondaryIndex, StepError> {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(pk, KeyType::Hash)?)
        .key_schema(key(sk, KeyType::Range)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .map_err(|e| invalid(format!("index {name}: {e}")))
}

/// Creates the case table as `SCHEMA.md` describes it (on-demand billing, `gsi1`, `gsi2`).
///
/// # Errors
/// The SDK error mapping (`Custody.Conflict` when the table already exists).
pub async fn create_table(client: &aws_sdk_dynamodb::Client, table: &str) -> Result<(), StepError> {
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(
            ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"]
                .into_iter()
                .map(attribute)
                .collect::<Result<_, _>>()?,
        ))
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .global_secondary_indexes(index("gsi1", "gsi1pk", "gsi1sk")?)
        .global_secondary_indexes(index("gsi2", "gsi2pk", "gsi2sk")?)
        .send()
        .await
        .map_err(|e| sdk_error(format!("dynamodb:CreateTable {table:?}"), e))?;
    Ok(())
}
