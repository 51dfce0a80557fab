//! `Stream::process`: user processors with stores and punctuation.

use std::time::Duration;

use super::{Materialized, Stream, StreamsBuilder};
use crate::processor::Processor;
use crate::serdes::Data;
use crate::topology::ProcFactory;

impl StreamsBuilder {
    /// Adds a key-value store of `K` → `V` for user processors; connect it with
    /// [`Stream::process_with`] and open it with
    /// [`ProcessorContext::key_value_store`](crate::processor::ProcessorContext::key_value_store).
    ///
    /// Errors (a duplicate name) are reported by [`StreamsBuilder::build`].
    pub fn add_key_value_store<K: Data, V: Data>(&self, materialized: Materialized<K, V>) -> String {
        let mut graph = self.graph();
        let name = graph.state_name(materialized.name.as_deref(), "KSTREAM-STATE-STORE");
        let key_serde = materialized.key_serde.unwrap_or_else(K::default_serde);
        graph.add_store(super::materialize::kv_store::<K, V>(
            &name,
            key_serde,
            materialized.backend,
            materialized.logging,
            false,
        ));
        name
    }

    /// Adds a window store of `K` → `V` for user processors, retaining windows of `size` for
    /// `retention`; with `duplicates` every put adds an entry.
    pub fn add_window_store<K: Data, V: Data>(
        &self,
        materialized: Materialized<K, V>,
        size: Duration,
        retention: Duration,
        duplicates: bool,
    ) -> String {
        let mut graph = self.graph();
        let name = graph.state_name(materialized.name.as_deref(), "KSTREAM-STATE-STORE");
        let key_serde = materialized.key_serde.unwrap_or_else(K::default_serde);
        let def = super::materialize::window_store_def::<K, V>(
            &name,
            key_serde,
            materialized.backend,
            materialized.logging,
            retention,
            size,
            duplicates,
        );
        graph.add_store(def);
        name
    }

    /// Adds a session store of `K` → `V` for user processors, retaining sessions for
    /// `retention`.
    pub fn add_session_store<K: Data, V: Data>(&self, materialized: Materialized<K, V>, retention: Duration) -> String {
        let mut graph = self.graph();
        let name = graph.state_name(materialized.name.as_deref(), "KSTREAM-STATE-STORE");
        let key_serde = materialized.key_serde.unwrap_or_else(K::default_serde);
        graph.add_store(super::materialize::session_store_def::<K, V>(
            &name,
            key_serde,
            materialized.backend,
            materialized.logging,
            retention,
        ));
        name
    }
}

impl<K: Data, V: Data> Stream<K, V> {
    /// Runs a user [`Processor`], one instance per task built by `factory`. Grouping or
    /// joining afterwards repartitions (the processor may change keys).
    pub fn process<K2: Data, V2: Data, P>(&self, factory: impl Fn() -> P + Send + Sync + 'static) -> Stream<K2, V2>
    where
        P: Processor<K, V, K2, V2>,
    {
        self.process_with(factory, &[])
    }

    /// Runs a user [`Processor`] that may use the stores named in `stores` (added with
    /// [`StreamsBuilder::add_key_value_store`] and friends).
    pub fn process_with<K2: Data, V2: Data, P>(
        &self,
        factory: impl Fn() -> P + Send + Sync + 'static,
        stores: &[&str],
    ) -> Stream<K2, V2>
    where
        P: Processor<K, V, K2, V2>,
    {
        self.add_process("KSTREAM-PROCESSOR", factory, stores, true)
    }

    /// Runs a user [`Processor`] that keeps keys as they are (it must not change them), so no
    /// repartition follows.
    pub fn process_values<V2: Data, P>(
        &self,
        factory: impl Fn() -> P + Send + Sync + 'static,
        stores: &[&str],
    ) -> Stream<K, V2>
    where
        P: Processor<K, V, K, V2>,
    {
        let repartition = self.repartition_required;
        self.add_process("KSTREAM-PROCESSVALUES", factory, stores, repartition)
    }

    fn add_process<K2: Data, V2: Data, P>(
        &self,
        prefix: &str,
        factory: impl Fn() -> P + Send + Sync + 'static,
        stores: &[&str],
        repartition_required: bool,
    ) -> Stream<K2, V2>
    where
        P: Processor<K, V, K2, V2>,
    {
        let factory = ProcFactory::<P, K, V, K2, V2, _>::new(move |_, _| Ok(factory()));
        let mut graph = self.builder.graph();
        let name = graph.name(None, prefix);
        let node = graph.add_processor(name, &[self.node], factory);
        for store in stores {
            graph.connect_store(node, store);
        }
        drop(graph);
        Stream {
            builder: self.builder.clone(),
            node,
            key_serde: K2::default_serde(),
            value_serde: V2::default_serde(),
            repartition_required,
        }
    }
}
