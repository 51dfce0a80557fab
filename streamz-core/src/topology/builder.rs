//! The mutable graph behind `StreamsBuilder`.

use std::collections::HashSet;
use std::sync::Arc;

use super::graph::{GraphNode, NodeId, NodeKind, ProcessorFactory, SourceFactory, StoreDef, TopicRef};
use super::{split, CoPartitionGroup, Topology};
use crate::error::TopologyError;

/// The graph as the DSL builds it.
#[derive(Default)]
pub(crate) struct GraphBuilder {
    pub(crate) nodes: Vec<GraphNode>,
    pub(crate) stores: Vec<StoreDef>,
    names: HashSet<String>,
    index: usize,
    /// Errors found while building, reported by `build()`.
    pub(crate) errors: Vec<TopologyError>,
    /// Join operators and their inputs, whose source topics must be co-partitioned.
    pub(crate) copartition: Vec<(String, Vec<NodeId>)>,
    pub(crate) repartitions: Vec<(TopicRef, Option<i32>)>,
    /// Stateful operators named by a generated name.
    pub(crate) generated_state_names: Vec<String>,
    /// Whether generated names of stores and internal topics are refused.
    pub(crate) explicit_naming: bool,
}

impl GraphBuilder {
    /// A name for a new operator: `given`, or `<prefix>-<index>` like Kafka Streams'
    /// `KSTREAM-FILTER-0000000001`. Every call uses up one index, named or not.
    pub(crate) fn name(&mut self, given: Option<&str>, prefix: &str) -> String {
        let index = self.index;
        self.index += 1;
        match given {
            Some(name) => name.to_string(),
            None => format!("{prefix}-{index:010}"),
        }
    }

    /// A name for a store or internal topic of a stateful operator; records generated ones.
    pub(crate) fn state_name(&mut self, given: Option<&str>, prefix: &str) -> String {
        let name = self.name(given, prefix);
        if given.is_none() {
            if self.explicit_naming {
                self.errors.push(TopologyError::UnnamedResource { operator: name.clone() });
            }
            self.generated_state_names.push(name.clone());
        }
        name
    }

    fn claim(&mut self, name: &str, what: &'static str) {
        if !self.names.insert(format!("{what}:{name}")) {
            self.errors.push(TopologyError::DuplicateName { name: name.to_string(), what });
        }
    }

    fn push(&mut self, name: String, kind: NodeKind, parents: &[NodeId], global: bool) -> NodeId {
        self.claim(&name, "processor");
        let id = self.nodes.len();
        for &p in parents {
            self.nodes[p].children.push(id);
        }
        self.nodes.push(GraphNode {
            name,
            kind,
            parents: parents.to_vec(),
            children: Vec::new(),
            stores: Vec::new(),
            global,
        });
        id
    }

    pub(crate) fn add_source(
        &mut self,
        name: String,
        topics: Vec<TopicRef>,
        factory: Arc<dyn SourceFactory>,
    ) -> NodeId {
        self.push(name, NodeKind::Source { topics, factory }, &[], false)
    }

    pub(crate) fn add_global_source(
        &mut self,
        name: String,
        topics: Vec<TopicRef>,
        factory: Arc<dyn SourceFactory>,
    ) -> NodeId {
        self.push(name, NodeKind::Source { topics, factory }, &[], true)
    }

    pub(crate) fn add_processor(
        &mut self,
        name: String,
        parents: &[NodeId],
        factory: Arc<dyn ProcessorFactory>,
    ) -> NodeId {
        let global = parents.iter().any(|&p| self.nodes[p].global);
        self.push(name, NodeKind::Processor { factory }, parents, global)
    }

    pub(crate) fn add_sink(
        &mut self,
        name: String,
        parent: NodeId,
        topic: Option<TopicRef>,
        factory: Arc<dyn ProcessorFactory>,
    ) -> NodeId {
        self.push(name, NodeKind::Sink { topic, factory }, &[parent], false)
    }

    /// Adds a store; a second store of the same name is a [`TopologyError::DuplicateName`].
    pub(crate) fn add_store(&mut self, store: StoreDef) {
        self.claim(&store.name, "store");
        self.stores.push(store);
    }

    /// Lets node `node` use store `store`.
    pub(crate) fn connect_store(&mut self, node: NodeId, store: &str) {
        self.nodes[node].stores.push(store.to_string());
    }

    /// Records a repartition topic (also checks the name is unique).
    pub(crate) fn add_repartition(&mut self, topic: TopicRef, partitions: Option<i32>) {
        self.claim(&topic.display(), "topic");
        self.repartitions.push((topic, partitions));
    }

    /// Builds the topology.
    pub(crate) fn build(&self) -> Result<Topology, TopologyError> {
        if let Some(e) = self.errors.first() {
            return Err(e.clone());
        }
        for node in &self.nodes {
            if let Some(missing) = node.stores.iter().find(|s| !self.stores.iter().any(|d| &d.name == *s)) {
                return Err(TopologyError::Invalid {
                    operator: node.name.clone(),
                    reason: format!(
                        "it uses store `{missing}`, which the topology does not have (add it with `StreamsBuilder::add_key_value_store` or a sibling first)"
                    ),
                });
            }
        }
        let (subtopologies, global) = split::split(&self.nodes, &self.stores);
        let copartition_groups = self
            .copartition
            .iter()
            .map(|(operator, inputs)| {
                let mut topics: Vec<TopicRef> =
                    inputs.iter().flat_map(|&n| split::upstream_topics(&self.nodes, n)).collect();
                topics.sort();
                topics.dedup();
                CoPartitionGroup { operator: operator.clone(), topics }
            })
            .collect();
        let warnings = self
            .generated_state_names
            .iter()
            .map(|n| {
                format!("stateful operator `{n}` has a generated name: its stores and internal topics are renamed when operators are added before it (name it to keep its state)")
            })
            .collect();
        Ok(Topology {
            nodes: self.nodes.iter().map(GraphNode::share).collect(),
            stores: self.stores.iter().map(StoreDef::share).collect(),
            subtopologies,
            global,
            copartition_groups,
            repartitions: self.repartitions.clone(),
            warnings,
        })
    }
}

impl GraphNode {
    fn share(&self) -> GraphNode {
        let kind = match &self.kind {
            NodeKind::Source { topics, factory } => {
                NodeKind::Source { topics: topics.clone(), factory: factory.clone() }
            }
            NodeKind::Processor { factory } => NodeKind::Processor { factory: factory.clone() },
            NodeKind::Sink { topic, factory } => NodeKind::Sink { topic: topic.clone(), factory: factory.clone() },
        };
        GraphNode {
            name: self.name.clone(),
            kind,
            parents: self.parents.clone(),
            children: self.children.clone(),
            stores: self.stores.clone(),
            global: self.global,
        }
    }
}

impl StoreDef {
    fn share(&self) -> StoreDef {
        StoreDef {
            name: self.name.clone(),
            kind: self.kind,
            logged: self.logged,
            retention_ms: self.retention_ms,
            global: self.global,
            cached: self.cached,
            factory: self.factory.clone(),
        }
    }
}
