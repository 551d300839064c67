//! Reading a Map state's own fields: the item processor, where items come from (`ItemsPath`
//! or JSONata `Items`), `ItemSelector`, concurrency, failure tolerance and `ItemBatcher`.

use super::fields::Checker;
use super::state::{jsonata_template, template};
use crate::error::ptr;
use crate::jsonata::JTemplate;
use crate::model::{Batcher, Lang, MapSpec};
use serde_json::{Map, Value};

pub(super) fn map(ck: &mut Checker, obj: &Map<String, Value>, pointer: &str) -> Option<MapSpec> {
    let processor_key = match (
        obj.contains_key("ItemProcessor"),
        obj.contains_key("Iterator"),
    ) {
        (true, false) => "ItemProcessor",
        (false, true) => "Iterator",
        (true, true) => {
            ck.err(
                ptr(pointer, "Iterator"),
                "'ItemProcessor' and 'Iterator' cannot both be given",
            );
            return None;
        }
        (false, false) => {
            ck.err(
                pointer,
                "a Map state needs 'ItemProcessor' (or the older 'Iterator')",
            );
            return None;
        }
    };
    let pp = ptr(pointer, processor_key);
    if let Some(config) = obj[processor_key].get("ProcessorConfig") {
        let cp = ptr(&pp, "ProcessorConfig");
        if let Some(c) = ck.object(config, &cp) {
            ck.allowed(c, &["Mode", "ExecutionType"], &cp, "ProcessorConfig");
            match ck.string(c, "Mode", &cp).as_deref() {
                None | Some("INLINE") => {}
                Some("DISTRIBUTED") => ck.err(
                    ptr(&cp, "Mode"),
                    "distributed Map is not supported by this engine: only INLINE runs locally",
                ),
                Some(other) => ck.err(
                    ptr(&cp, "Mode"),
                    format!("{other:?} is not a processor mode (expected INLINE or DISTRIBUTED)"),
                ),
            }
        }
    }
    let processor = super::machine(ck, &obj[processor_key], &pp, &["ProcessorConfig"]);
    let jsonata = ck.lang == Lang::Jsonata;
    let items = jsonata_template(ck, obj, "Items", pointer, jsonata);
    if let Some(JTemplate::Literal(v)) = &items
        && !v.is_array()
    {
        ck.err(
            ptr(pointer, "Items"),
            "must be an array or a JSONata expression",
        );
    }
    let item_selector_jsonata = jsonata_template(ck, obj, "ItemSelector", pointer, jsonata);
    let item_selector = match (
        obj.contains_key("ItemSelector"),
        obj.contains_key("Parameters"),
    ) {
        (true, true) => {
            ck.err(
                ptr(pointer, "Parameters"),
                "'ItemSelector' and 'Parameters' cannot both be given",
            );
            None
        }
        (true, false) if jsonata => None,
        (true, false) => template(ck, obj, "ItemSelector", pointer, false),
        (false, true) => template(ck, obj, "Parameters", pointer, false),
        (false, false) => None,
    };
    let batcher = obj
        .get("ItemBatcher")
        .and_then(|b| batcher(ck, b, &ptr(pointer, "ItemBatcher")));
    Some(MapSpec {
        items_path: ck.path(obj, "ItemsPath", pointer, true),
        item_selector,
        items,
        item_selector_jsonata,
        processor: processor?,
        max_concurrency: ck.uint_or_path(obj, "MaxConcurrency", pointer, 0, u64::MAX),
        tolerated_count: ck.uint_or_path(obj, "ToleratedFailureCount", pointer, 0, u64::MAX),
        tolerated_percentage: ck.number_or_path(
            obj,
            "ToleratedFailurePercentage",
            pointer,
            0.0,
            100.0,
        ),
        batcher,
    })
}

fn batcher(ck: &mut Checker, v: &Value, pointer: &str) -> Option<Batcher> {
    let o = ck.object(v, pointer)?;
    ck.allowed(
        o,
        &[
            "MaxItemsPerBatch",
            "MaxItemsPerBatchPath",
            "MaxInputBytesPerBatch",
            "MaxInputBytesPerBatchPath",
            "BatchInput",
            "Comment",
        ],
        pointer,
        "ItemBatcher",
    );
    let max_items = ck.uint_or_path(o, "MaxItemsPerBatch", pointer, 1, u64::MAX);
    let max_bytes = ck.uint_or_path(o, "MaxInputBytesPerBatch", pointer, 1, 262_144);
    if max_items.is_none() && max_bytes.is_none() {
        ck.err(
            pointer,
            "an ItemBatcher needs MaxItemsPerBatch(Path) or MaxInputBytesPerBatch(Path)",
        );
    }
    let batch_input = template(ck, o, "BatchInput", pointer, true);
    Some(Batcher {
        max_items,
        max_bytes,
        batch_input,
    })
}
