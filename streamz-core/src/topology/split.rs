//! Splitting the graph into sub-topologies: connected parts, joined by shared stores.

use super::graph::{GraphNode, NodeId, NodeKind, StoreDef, TopicRef};

/// A connected part of the topology; it runs as one task per input partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubTopology {
    /// Its index.
    pub id: u32,
    pub(crate) nodes: Vec<NodeId>,
    pub(crate) sources: Vec<NodeId>,
    pub(crate) source_topics: Vec<TopicRef>,
    pub(crate) sink_topics: Vec<TopicRef>,
    pub(crate) stores: Vec<String>,
}

impl SubTopology {
    /// The names of the topics it reads (internal ones without the application id).
    pub fn source_topic_names(&self) -> Vec<String> {
        self.source_topics.iter().map(TopicRef::display).collect()
    }

    /// The stores its processors use.
    pub fn store_names(&self) -> &[String] {
        &self.stores
    }
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        parent[ra.max(rb)] = ra.min(rb);
    }
}

/// Splits `nodes` into sub-topologies (in order of their first node) and global ones.
pub(crate) fn split(nodes: &[GraphNode], stores: &[StoreDef]) -> (Vec<SubTopology>, Vec<SubTopology>) {
    let mut parent: Vec<usize> = (0..nodes.len()).collect();
    for (id, node) in nodes.iter().enumerate() {
        for &c in &node.children {
            union(&mut parent, id, c);
        }
    }
    for store in stores.iter().filter(|s| !s.global) {
        let users: Vec<NodeId> = (0..nodes.len()).filter(|&n| nodes[n].stores.contains(&store.name)).collect();
        for w in users.windows(2) {
            union(&mut parent, w[0], w[1]);
        }
    }
    let mut groups: Vec<(usize, Vec<NodeId>)> = Vec::new();
    for id in 0..nodes.len() {
        let root = find(&mut parent, id);
        match groups.iter_mut().find(|(r, _)| *r == root) {
            Some((_, members)) => members.push(id),
            None => groups.push((root, vec![id])),
        }
    }
    let (mut regular, mut global) = (Vec::new(), Vec::new());
    for (_, members) in groups {
        let is_global = nodes[members[0]].global;
        let list = if is_global { &mut global } else { &mut regular };
        let id = list.len() as u32;
        list.push(subtopology(id, members, nodes, stores));
    }
    (regular, global)
}

fn subtopology(id: u32, members: Vec<NodeId>, nodes: &[GraphNode], stores: &[StoreDef]) -> SubTopology {
    let mut sources = Vec::new();
    let mut source_topics = Vec::new();
    let mut sink_topics = Vec::new();
    let mut store_names: Vec<String> = Vec::new();
    for &n in &members {
        match &nodes[n].kind {
            NodeKind::Source { topics, .. } => {
                sources.push(n);
                source_topics.extend(topics.iter().cloned());
            }
            NodeKind::Sink { topic: Some(t), .. } => sink_topics.push(t.clone()),
            _ => {}
        }
        for s in &nodes[n].stores {
            let is_global = stores.iter().any(|d| &d.name == s && d.global) && !nodes[n].global;
            if !is_global && !store_names.contains(s) {
                store_names.push(s.clone());
            }
        }
    }
    SubTopology { id, nodes: members, sources, source_topics, sink_topics, stores: store_names }
}

/// The source topics feeding node `n` within its sub-topology.
pub(crate) fn upstream_topics(nodes: &[GraphNode], n: NodeId) -> Vec<TopicRef> {
    let mut out = Vec::new();
    let mut stack = vec![n];
    let mut seen = vec![false; nodes.len()];
    while let Some(x) = stack.pop() {
        if std::mem::replace(&mut seen[x], true) {
            continue;
        }
        if let NodeKind::Source { topics, .. } = &nodes[x].kind {
            out.extend(topics.iter().cloned());
        }
        stack.extend(nodes[x].parents.iter().copied());
    }
    out
}
