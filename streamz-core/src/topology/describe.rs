//! `Topology::describe()`: a text rendering in the layout of Kafka Streams' `describe()`.

use std::fmt::Write;

use super::graph::{NodeKind, TopicRef};
use super::{SubTopology, Topology};

impl Topology {
    /// Describes the topology: each sub-topology with its sources (and topics), processors
    /// (and stores), sinks (and topic), and the edges between them, laid out like Kafka
    /// Streams' `TopologyDescription`. Internal topics appear without the application id.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.stream::<String, String>("in").filter(|_, v| !v.is_empty()).to("out");
    /// let text = builder.build()?.describe();
    /// assert!(text.contains("Source: KSTREAM-SOURCE-0000000000 (topics: [in])"));
    /// assert!(text.contains("Sink: KSTREAM-SINK-0000000002 (topic: out)"));
    /// # Ok::<(), streamz_core::TopologyError>(())
    /// ```
    pub fn describe(&self) -> String {
        let mut out = String::from("Topologies:\n");
        for sub in &self.subtopologies {
            let _ = writeln!(out, "   Sub-topology: {}", sub.id);
            self.describe_nodes(sub, &mut out);
        }
        for sub in &self.global {
            let _ = writeln!(out, "   Global Sub-topology: {}", sub.id);
            self.describe_nodes(sub, &mut out);
        }
        out
    }

    fn describe_nodes(&self, sub: &SubTopology, out: &mut String) {
        for &id in &sub.nodes {
            let node = &self.nodes[id];
            let _ = match &node.kind {
                NodeKind::Source { topics, .. } => {
                    let topics: Vec<String> = topics.iter().map(TopicRef::display).collect();
                    writeln!(out, "    Source: {} (topics: [{}])", node.name, topics.join(", "))
                }
                NodeKind::Processor { .. } => {
                    writeln!(out, "    Processor: {} (stores: [{}])", node.name, node.stores.join(", "))
                }
                NodeKind::Sink { topic, .. } => {
                    let topic = topic.as_ref().map_or_else(|| "<chosen per record>".to_string(), TopicRef::display);
                    writeln!(out, "    Sink: {} (topic: {})", node.name, topic)
                }
            };
            if !matches!(node.kind, NodeKind::Sink { .. }) {
                let children: Vec<&str> = node.children.iter().map(|&c| self.nodes[c].name.as_str()).collect();
                let children = if children.is_empty() { "none".to_string() } else { children.join(", ") };
                let _ = writeln!(out, "      --> {children}");
            }
            if !node.parents.is_empty() {
                let parents: Vec<&str> = node.parents.iter().map(|&p| self.nodes[p].name.as_str()).collect();
                let _ = writeln!(out, "      <-- {}", parents.join(", "));
            }
        }
        out.push('\n');
    }
}
