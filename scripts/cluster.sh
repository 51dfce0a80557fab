#!/usr/bin/env bash
# A local three-node Apache Kafka cluster (KRaft; each node a broker and a controller) on
# 127.0.0.1, for fault tests: every node is a scripts/kafka.sh broker with a data dir and ports
# of its own, one cluster id and one controller quorum. Internal topics of the brokers
# (offsets, transactions) have three replicas and a min ISR of 2.
#
# Usage: scripts/cluster.sh <command> [node]
#   start          start the nodes that are not running (fresh data unless they have some);
#                  prints the bootstrap servers once every node answers
#   stop [N]       stop node N, or every node (TERM, then KILL after 20 s)
#   kill N         kill node N at once (SIGKILL), as a crash
#   pause N        stop node N's process (SIGSTOP); `resume N` continues it (SIGCONT)
#   restart N      start node N again with its data (after stop or kill)
#   status         each node's state; exit 0 only if every node answers
#   bootstrap      print the bootstrap servers
#   pid N          print node N's process id
#   log N          print the path of node N's log
#
# Environment:
#   STREAMZ_CLUSTER_DATA   parent of the nodes' data dirs (default ~/.cache/streamz/cluster)
#   STREAMZ_CLUSTER_PORT   client port of node 1 (default 19092); node N listens on
#                          port + 2(N - 1), its controller on the port after that
#   STREAMZ_CLUSTER_HEAP   JVM heap flags of each node (default "-Xmx512m -Xms128m")
set -euo pipefail

readonly NODES=3
readonly HOST=127.0.0.1
KAFKA=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/kafka.sh
readonly KAFKA
DATA=${STREAMZ_CLUSTER_DATA:-$HOME/.cache/streamz/cluster}
BASE_PORT=${STREAMZ_CLUSTER_PORT:-19092}
HEAP=${STREAMZ_CLUSTER_HEAP:--Xmx512m -Xms128m}

log() { printf 'cluster.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

port() { echo $((BASE_PORT + 2 * ($1 - 1))); }
controller_port() { echo $(($(port "$1") + 1)); }

voters() {
  local n out=()
  for ((n = 1; n <= NODES; n++)); do out+=("$n@$HOST:$(controller_port "$n")"); done
  (IFS=,; echo "${out[*]}")
}

bootstrap() {
  local n out=()
  for ((n = 1; n <= NODES; n++)); do out+=("$HOST:$(port "$n")"); done
  (IFS=,; echo "${out[*]}")
}

node_of() {
  [[ ${1:-} =~ ^[1-3]$ ]] || die "name a node: 1, 2 or 3"
  echo "$1"
}

# Runs scripts/kafka.sh COMMAND for node $1, with that node's settings.
node_kafka() {
  local n=$1
  shift
  local dir=$DATA/node-$n
  mkdir -p "$dir"
  cat >"$dir/cluster.properties" <<PROPS
node.id=$n
controller.quorum.voters=$(voters)
default.replication.factor=$NODES
offsets.topic.replication.factor=$NODES
transaction.state.log.replication.factor=$NODES
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=$NODES
share.coordinator.state.topic.min.isr=2
PROPS
  STREAMZ_KAFKA_DATA=$dir STREAMZ_KAFKA_PORT=$(port "$n") \
    STREAMZ_KAFKA_CONTROLLER_PORT=$(controller_port "$n") \
    STREAMZ_KAFKA_EXTRA_PROPS=$dir/cluster.properties STREAMZ_KAFKA_HEAP=$HEAP \
    bash "$KAFKA" "$@"
}

pid_of() {
  local file=$DATA/node-$1/kafka.pid
  [[ -f $file ]] || die "node $1 has no pid file (not started?)"
  cat "$file"
}

cmd_start() {
  bash "$KAFKA" fetch >/dev/null
  # A fresh cluster: one new id for every node. Nodes with data keep theirs.
  local id n pids=() failed=0
  id=$(bash "$KAFKA" cluster-id)
  # The nodes wait for a quorum of controllers: they start together.
  for ((n = 1; n <= NODES; n++)); do
    local keep=0
    [[ -f $DATA/node-$n/logs/meta.properties ]] && keep=1
    STREAMZ_KAFKA_KEEP_DATA=$keep STREAMZ_KAFKA_CLUSTER_ID=$id node_kafka "$n" start >/dev/null &
    pids+=($!)
  done
  for n in "${!pids[@]}"; do
    wait "${pids[$n]}" || { log "node $((n + 1)) did not start (log: $DATA/node-$((n + 1))/broker.log)"; failed=1; }
  done
  ((!failed)) || exit 1
  bootstrap
}

cmd_stop() {
  if [[ -n ${1:-} ]]; then
    node_kafka "$(node_of "$1")" stop
    return
  fi
  local n
  for ((n = 1; n <= NODES; n++)); do node_kafka "$n" stop & done
  wait
}

cmd_status() {
  local n rc=0
  for ((n = 1; n <= NODES; n++)); do
    printf 'node %s: ' "$n"
    node_kafka "$n" status || rc=1
  done
  return "$rc"
}

main() {
  local cmd=${1:-}
  [[ $# -gt 0 ]] && shift
  case $cmd in
    start) cmd_start ;;
    stop) cmd_stop "${1:-}" ;;
    kill) kill -KILL "$(pid_of "$(node_of "${1:-}")")" ;;
    pause) kill -STOP "$(pid_of "$(node_of "${1:-}")")" ;;
    resume) kill -CONT "$(pid_of "$(node_of "${1:-}")")" ;;
    restart)
      local n
      n=$(node_of "${1:-}")
      STREAMZ_KAFKA_KEEP_DATA=1 node_kafka "$n" start >/dev/null
      bootstrap
      ;;
    status) cmd_status ;;
    bootstrap) bootstrap ;;
    pid) pid_of "$(node_of "${1:-}")" ;;
    log) echo "$DATA/node-$(node_of "${1:-}")/broker.log" ;;
    *)
      sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
      exit 2
      ;;
  esac
}

main "$@"
