package streamz.bench;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.processor.StateRestoreListener;

/**
 * Prints {@code restored <records> <ms>} once the expected number of changelog records is
 * restored: the time from the first restore's start to then.
 */
final class RestoreTimer implements StateRestoreListener {
    private final long expected;
    private long restored;
    private long startNanos;
    private boolean done;

    RestoreTimer(long expected) {
        this.expected = expected;
    }

    @Override
    public synchronized void onRestoreStart(TopicPartition partition, String store, long start, long end) {
        if (startNanos == 0) {
            startNanos = System.nanoTime();
        }
    }

    @Override
    public synchronized void onBatchRestored(TopicPartition partition, String store, long batchEnd, long records) {
        restored += records;
        if (!done && restored >= expected) {
            done = true;
            long ms = (System.nanoTime() - startNanos) / 1_000_000;
            System.out.println("restored " + restored + " " + ms);
            System.out.flush();
        }
    }

    @Override
    public void onRestoreEnd(TopicPartition partition, String store, long total) {}
}
