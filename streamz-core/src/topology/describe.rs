//! `Topology::describe()`: a text rendering in the layout of Kafka Streams' `describe()`.

use std::collections::HashMap;
use std::fmt::Write;

use super::graph::{NodeId, NodeKind, TopicRef};
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
        // Kafka Streams writes "Topologies:\n " and then each sub-topology as
        // "  Sub-topology: <id>\n<nodes>\n", so the first header is indented by three spaces and
        // the others by two.
        let mut out = String::from("Topologies:\n ");
        for sub in &self.subtopologies {
            let _ = writeln!(out, "  Sub-topology: {}", sub.id);
            self.describe_nodes(sub, &mut out);
        }
        let regular = self.subtopologies.len() as u32;
        for sub in &self.global {
            let _ = writeln!(out, "  Sub-topology: {} for global store (will not generate tasks)", regular + sub.id);
            self.describe_nodes(sub, &mut out);
        }
        if self.subtopologies.is_empty() && self.global.is_empty() {
            out.pop();
        }
        out
    }

    /// The nodes of `sub` in the order Kafka Streams prints them: by descending number of
    /// paths starting at the node within the sub-topology (so sources and long chains come
    /// first), then by name.
    fn print_order(&self, sub: &SubTopology) -> Vec<NodeId> {
        fn paths(topology: &Topology, sub: &SubTopology, n: NodeId, memo: &mut HashMap<NodeId, u64>) -> u64 {
            if let Some(&p) = memo.get(&n) {
                return p;
            }
            let children = topology.nodes[n].children.iter().filter(|c| sub.nodes.contains(c));
            let p = 1 + children.map(|&c| paths(topology, sub, c, memo)).sum::<u64>();
            memo.insert(n, p);
            p
        }
        let mut memo = HashMap::new();
        let mut order: Vec<(u64, &str, NodeId)> =
            sub.nodes.iter().map(|&n| (paths(self, sub, n, &mut memo), self.nodes[n].name.as_str(), n)).collect();
        order.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        order.into_iter().map(|(_, _, n)| n).collect()
    }

    fn describe_nodes(&self, sub: &SubTopology, out: &mut String) {
        for id in self.print_order(sub) {
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
