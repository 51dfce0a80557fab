//! Turning rdkafka's errors into [`StreamsError`]s.

use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use crate::StreamsError;

/// A [`StreamsError::Kafka`] for `err`, saying what was being done.
pub(crate) fn kafka_error(doing: &str, err: KafkaError) -> StreamsError {
    let retriable = match err.rdkafka_error_code() {
        Some(code) => matches!(
            code,
            RDKafkaErrorCode::OperationTimedOut
                | RDKafkaErrorCode::RequestTimedOut
                | RDKafkaErrorCode::AllBrokersDown
                | RDKafkaErrorCode::BrokerTransportFailure
                | RDKafkaErrorCode::QueueFull
                | RDKafkaErrorCode::NotLeaderForPartition
                | RDKafkaErrorCode::LeaderNotAvailable
                | RDKafkaErrorCode::NetworkException
                | RDKafkaErrorCode::RebalanceInProgress
        ),
        None => false,
    };
    StreamsError::Kafka { message: format!("{doing}: {err}"), retriable }
}
