//! Topologies: the graph the DSL builds, split into sub-topologies at repartition topics.
//!
//! A [`Topology`] is what an application or the test driver runs: its sub-topologies, their
//! source and sink topics, internal topics (`<app>-<name>-repartition`,
//! `<app>-<store>-changelog`), stores, and the co-partitioning its joins need.

mod builder;
mod describe;
mod graph;
mod instantiate;
mod plan;
mod split;

pub(crate) use builder::GraphBuilder;
pub(crate) use graph::{GraphNode, NodeId, SourceFactory, StoreDef, StoreFactory, StoreKind, TopicRef};
pub(crate) use instantiate::{Instantiator, ProcFactory, TaskEnv};
pub use plan::{InternalTopic, InternalTopicKind, Plan};
pub use split::SubTopology;

use crate::error::TopologyError;

/// A built topology: sub-topologies of processors, stores and topics.
///
/// Build one with [`StreamsBuilder::build`](crate::dsl::StreamsBuilder::build); print it with
/// [`Topology::describe`].
pub struct Topology {
    pub(crate) nodes: Vec<GraphNode>,
    pub(crate) stores: Vec<StoreDef>,
    pub(crate) subtopologies: Vec<SubTopology>,
    pub(crate) global: Vec<SubTopology>,
    pub(crate) copartition_groups: Vec<CoPartitionGroup>,
    pub(crate) repartitions: Vec<(TopicRef, Option<i32>)>,
    pub(crate) warnings: Vec<String>,
}

/// Topics that must have equal partition counts (the inputs of a join).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CoPartitionGroup {
    pub(crate) operator: String,
    pub(crate) topics: Vec<TopicRef>,
}

impl std::fmt::Debug for Topology {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Topology {
    /// The sub-topologies, in order.
    pub fn subtopologies(&self) -> &[SubTopology] {
        &self.subtopologies
    }

    /// Warnings found while building, e.g. stateful operators whose state names were generated
    /// (adding an operator upstream would rename their stores and topics).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The external topics the topology reads (not internal repartition topics).
    pub fn source_topics(&self) -> Vec<String> {
        external(self.subtopologies.iter().chain(&self.global).flat_map(|s| &s.source_topics))
    }

    /// The external topics the topology writes to with a fixed name (not the topics chosen per
    /// record by `to_dynamic`, nor internal topics).
    pub fn sink_topics(&self) -> Vec<String> {
        external(self.subtopologies.iter().flat_map(|s| &s.sink_topics))
    }

    pub(crate) fn node(&self, id: NodeId) -> &GraphNode {
        &self.nodes[id]
    }

    pub(crate) fn store(&self, name: &str) -> Result<&StoreDef, TopologyError> {
        self.stores.iter().find(|s| s.name == name).ok_or_else(|| TopologyError::Invalid {
            operator: name.to_string(),
            reason: "no store of that name".into(),
        })
    }
}

/// The names of the external topics among `topics`, sorted, each once.
fn external<'a>(topics: impl Iterator<Item = &'a TopicRef>) -> Vec<String> {
    let mut names: Vec<String> = topics
        .filter_map(|t| match t {
            TopicRef::External(name) => Some(name.clone()),
            TopicRef::Internal(_) => None,
        })
        .collect();
    names.sort();
    names.dedup();
    names
}
