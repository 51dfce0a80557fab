package streamz.bench;

import java.util.Arrays;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * W3's trade history: the last {@value #KEEP} trade amounts of each user; a trade above
 * {@value #FACTOR}× the median of the user's history is forwarded as an alert "amount,median".
 */
final class History implements Processor<String, Long, String, String> {
    static final int KEEP = 100;
    static final long FACTOR = 5;

    private ProcessorContext<String, String> context;
    private KeyValueStore<String, long[]> store;

    @Override
    public void init(ProcessorContext<String, String> context) {
        this.context = context;
        this.store = context.getStateStore(Workloads.HISTORY_STORE);
    }

    @Override
    public void process(Record<String, Long> record) {
        long amount = record.value();
        long[] history = store.get(record.key());
        if (history == null) {
            history = new long[0];
        }
        if (history.length > 0) {
            long[] sorted = history.clone();
            Arrays.sort(sorted);
            long median = sorted[sorted.length / 2];
            if (amount > FACTOR * median) {
                context.forward(record.withValue(amount + "," + median));
            }
        }
        int keep = Math.min(history.length, KEEP - 1);
        long[] next = Arrays.copyOfRange(history, history.length - keep, history.length + 1);
        next[keep] = amount;
        store.put(record.key(), next);
    }
}
