package streamz.bench;

import java.nio.ByteBuffer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/** A long[] as its big-endian longs one after the other. */
final class LongsSerde implements Serde<long[]> {
    @Override
    public Serializer<long[]> serializer() {
        return (topic, values) -> {
            if (values == null) {
                return null;
            }
            ByteBuffer buf = ByteBuffer.allocate(values.length * 8);
            for (long v : values) {
                buf.putLong(v);
            }
            return buf.array();
        };
    }

    @Override
    public Deserializer<long[]> deserializer() {
        return (topic, bytes) -> {
            if (bytes == null) {
                return null;
            }
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            long[] values = new long[bytes.length / 8];
            for (int i = 0; i < values.length; i++) {
                values[i] = buf.getLong();
            }
            return values;
        };
    }
}
