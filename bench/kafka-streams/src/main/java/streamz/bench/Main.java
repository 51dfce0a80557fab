package streamz.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;

/**
 * One benchmark workload as a Kafka Streams application, driven by {@code streamz-bench kafka}
 * with the same protocol as its own {@code app} processes: prints {@code ready} once the
 * application runs (W4: once it started), runs until a line arrives on stdin, then closes.
 *
 * <pre>
 * java -cp ... streamz.bench.Main --workload w1|w2|w3|w4 --bootstrap B --app-id A --input T
 *     --output T [--users T --alerts T] [--guarantee alos|eos] [--commit-ms MS] [--cache-bytes N]
 *     [--fetch-bytes N] [--state-dir D] [--restore-records N]
 * </pre>
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> flags = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            flags.put(args[i], args[i + 1]);
        }
        String workload = require(flags, "--workload");
        String appId = require(flags, "--app-id");
        Topology topology = Workloads.build(workload, flags);

        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, require(flags, "--bootstrap"));
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        props.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        props.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        boolean eos = "eos".equals(flags.getOrDefault("--guarantee", "alos"));
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, eos ? StreamsConfig.EXACTLY_ONCE_V2 : StreamsConfig.AT_LEAST_ONCE);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Long.parseLong(flags.getOrDefault("--commit-ms", eos ? "100" : "30000")));
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, Long.parseLong(flags.getOrDefault("--cache-bytes", "0")));
        props.put(StreamsConfig.STATE_DIR_CONFIG, flags.getOrDefault("--state-dir", "/tmp/ks-bench"));
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG),
                Integer.parseInt(flags.getOrDefault("--fetch-bytes", "10485760")));
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");

        KafkaStreams streams = new KafkaStreams(topology, props);
        CountDownLatch running = new CountDownLatch(1);
        streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.RUNNING) {
                running.countDown();
            }
        });
        boolean restore = "w4".equals(workload);
        if (restore) {
            streams.setGlobalStateRestoreListener(new RestoreTimer(Long.parseLong(require(flags, "--restore-records"))));
        }
        streams.start();
        if (!restore && !running.await(90, TimeUnit.SECONDS)) {
            System.err.println("ks-bench: not running after 90 s: " + streams.state());
            streams.close();
            System.exit(1);
        }
        System.out.println("ready");
        System.out.flush();
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        streams.close();
        System.exit(0);
    }

    private static String require(Map<String, String> flags, String flag) {
        String value = flags.get(flag);
        if (value == null) {
            throw new IllegalArgumentException(flag + " is required");
        }
        return value;
    }
}
