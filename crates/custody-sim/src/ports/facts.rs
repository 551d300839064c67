use crate::model::{Account, Instance, Node, Pod};
use custody_core::inventory::{InstanceFacts, NodeFacts, PodFacts};
pub(crate) fn instance_facts(_a: &Account, _i: &Instance) -> InstanceFacts {
    InstanceFacts {}
}
pub(crate) fn pod_facts(_p: &Pod) -> PodFacts {
    PodFacts {}
}
pub(crate) fn node_facts(_n: &Node) -> NodeFacts {
    NodeFacts {}
}
pub(crate) fn case_subject(c: &custody_core::case::Case) -> String {
    c.id.to_string()
}
