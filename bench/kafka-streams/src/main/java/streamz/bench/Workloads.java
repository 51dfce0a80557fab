package streamz.bench;

import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.GlobalKTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;

/** The topologies of the workloads, as bench/src/workloads.rs builds them for streamz. */
final class Workloads {
    private Workloads() {}

    static final String HISTORY_STORE = "w3-history";

    static Topology build(String workload, Map<String, String> flags) {
        StreamsBuilder builder = new StreamsBuilder();
        String input = flags.get("--input");
        String output = flags.get("--output");
        Serde<Order> orders = new Order.JsonSerde();
        KStream<String, Order> stream = builder.stream(input, Consumed.with(Serdes.String(), orders));
        switch (workload) {
            case "w1" -> stream.filter((k, o) -> o.passes())
                    .mapValues(o -> o.doubled())
                    .to(output, Produced.with(Serdes.String(), orders));
            case "w2" -> stream.selectKey((k, o) -> o.region + "-" + (o.id % 1000))
                    .groupByKey(Grouped.with(Serdes.String(), orders))
                    .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofSeconds(10), Duration.ofSeconds(5)))
                    .aggregate(() -> new long[2], (k, o, agg) -> new long[] {agg[0] + 1, agg[1] + o.amount},
                            Materialized.<String, long[], WindowStore<Bytes, byte[]>>as("w2-counts")
                                    .withValueSerde(new LongsSerde()))
                    .toStream()
                    .map((wk, agg) -> KeyValue.pair(wk.key() + "@" + wk.window().start(), agg[0] + "," + agg[1]))
                    .to(output, Produced.with(Serdes.String(), Serdes.String()));
            case "w3" -> {
                GlobalKTable<String, String> users = builder.globalTable(flags.get("--users"),
                        Consumed.with(Serdes.String(), Serdes.String()),
                        Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as("w3-users"));
                KStream<String, Long> trades = stream.join(users, (user, o) -> user, (o, user) -> user.isEmpty() ? 0L : o.amount);
                trades.groupByKey(Grouped.with(Serdes.String(), Serdes.Long()))
                        .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofSeconds(60), Duration.ofSeconds(5))
                                .advanceBy(Duration.ofSeconds(10)))
                        .aggregate(() -> 0L, (k, amount, sum) -> sum + amount,
                                Materialized.<String, Long, WindowStore<Bytes, byte[]>>as("w3-sums")
                                        .withValueSerde(Serdes.Long()))
                        .toStream()
                        .map((wk, sum) -> KeyValue.pair(wk.key() + "@" + wk.window().start(), Long.toString(sum)))
                        .to(output, Produced.with(Serdes.String(), Serdes.String()));
                builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(HISTORY_STORE),
                        Serdes.String(), new LongsSerde()));
                trades.process(History::new, HISTORY_STORE)
                        .to(flags.get("--alerts"), Produced.with(Serdes.String(), Serdes.String()));
            }
            case "w4" -> stream.groupByKey(Grouped.with(Serdes.String(), orders))
                    .count(Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("w4-store"));
            default -> throw new IllegalArgumentException("unknown workload " + workload);
        }
        return builder.build();
    }
}
