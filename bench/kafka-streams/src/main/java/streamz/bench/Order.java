package streamz.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/** An input record's value, as bench/src/input.rs writes it: {"id":17,"amount":537,"region":"eu-3"}. */
public final class Order {
    public long id;
    public long amount;
    public String region;

    /** W1's filter: keeps nine orders in ten. */
    boolean passes() {
        return amount % 10 != 0;
    }

    Order doubled() {
        Order o = new Order();
        o.id = id;
        o.amount = amount * 2;
        o.region = region;
        return o;
    }

    /** JSON through Jackson, as a Kafka Streams application would. */
    static final class JsonSerde implements Serde<Order> {
        private static final ObjectMapper MAPPER = new ObjectMapper();

        @Override
        public Serializer<Order> serializer() {
            return (topic, order) -> {
                try {
                    return MAPPER.writeValueAsBytes(order);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            };
        }

        @Override
        public Deserializer<Order> deserializer() {
            return (topic, bytes) -> {
                try {
                    return bytes == null ? null : MAPPER.readValue(bytes, Order.class);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            };
        }
    }
}
