#!/bin/sh
# Regenerates the hand-made sysfs fixture trees (see README.md). Run from this folder.
set -e
rm -rf sys-efa sys-mlx5
w() { mkdir -p "$(dirname "$1")"; printf '%s\n' "$2" > "$1"; }

# AWS EFA: four devices, one port each, byte counters in ports/1/hw_counters (no counters/ folder).
for i in 0 1 2 3; do
  d=sys-efa/class/infiniband/efa_$i
  w $d/node_type "1: CA"
  w $d/fw_ver "0.0.0.0"
  w $d/node_guid "0000:0000:0000:000$i"
  for c in alloc_pd_err alloc_ucontext_err cmds_err completed_cmds create_ah_err create_cq_err \
           create_qp_err keep_alive_rcvd mmap_err no_completion_cmds reg_mr_err submitted_cmds; do
    w $d/hw_counters/$c 0
  done
  w $d/hw_counters/lifespan 12
  p=$d/ports/1
  w $p/state "4: ACTIVE"
  w $p/phys_state "5: LinkUp"
  w $p/rate "100 Gb/sec (4X EDR)"
  w $p/link_layer "Unspecified"
  w $p/lid "0x0"
  w $p/hw_counters/lifespan 12
  base=$(( (i + 1) * 1000000000 ))
  w $p/hw_counters/tx_bytes $base
  w $p/hw_counters/tx_pkts $(( base / 4096 ))
  w $p/hw_counters/rx_bytes $(( base * 2 ))
  w $p/hw_counters/rx_pkts $(( base / 2048 ))
  w $p/hw_counters/rx_drops $i
  w $p/hw_counters/send_bytes $(( base / 2 ))
  w $p/hw_counters/send_wrs $(( base / 65536 ))
  w $p/hw_counters/recv_bytes $(( base / 2 ))
  w $p/hw_counters/recv_wrs $(( base / 65536 ))
  w $p/hw_counters/rdma_read_bytes $(( base / 4 ))
  w $p/hw_counters/rdma_read_wrs $(( base / 262144 ))
  w $p/hw_counters/rdma_read_wr_err 0
  w $p/hw_counters/rdma_read_resp_bytes $(( base / 4 ))
  w $p/hw_counters/rdma_write_bytes $(( base / 4 ))
  w $p/hw_counters/rdma_write_wrs $(( base / 262144 ))
  w $p/hw_counters/rdma_write_wr_err 0
  w $p/hw_counters/rdma_write_recv_bytes $(( base / 4 ))
  w $p/hw_counters/retrans_bytes 0
  w $p/hw_counters/retrans_pkts $i
  w $p/hw_counters/retrans_timeout_events 0
  w $p/hw_counters/unresponsive_remote_events 0
  w $p/hw_counters/impaired_remote_conn_events 0
done

# NVIDIA ConnectX (mlx5): two single-port devices; IB port counters in ports/1/counters
# (data in 4-byte words) and driver counters in ports/1/hw_counters. mlx5_1 is a RoCE port that is down.
for i in 0 1; do
  d=sys-mlx5/class/infiniband/mlx5_$i
  w $d/node_type "1: CA"
  w $d/fw_ver "28.39.1002"
  w $d/hca_type "MT4129"
  w $d/board_id "MT_0000000838"
  p=$d/ports/1
  if [ $i = 0 ]; then
    w $p/state "4: ACTIVE"; w $p/phys_state "5: LinkUp"; w $p/rate "400 Gb/sec (4X NDR)"; w $p/link_layer "InfiniBand"
  else
    w $p/state "1: DOWN"; w $p/phys_state "3: Disabled"; w $p/rate "10 Gb/sec (4X SDR)"; w $p/link_layer "Ethernet"
  fi
  words=$(( (i + 1) * 250000000 ))
  for c in VL15_dropped excessive_buffer_overrun_errors link_downed link_error_recovery \
           local_link_integrity_errors multicast_rcv_packets multicast_xmit_packets \
           port_rcv_constraint_errors port_rcv_errors port_rcv_remote_physical_errors \
           port_rcv_switch_relay_errors port_xmit_constraint_errors port_xmit_discards \
           port_xmit_wait symbol_error; do
    w $p/counters/$c 0
  done
  w $p/counters/port_xmit_data $words
  w $p/counters/port_rcv_data $(( words * 3 ))
  w $p/counters/port_xmit_packets $(( words / 1024 ))
  w $p/counters/port_rcv_packets $(( words * 3 / 1024 ))
  w $p/counters/unicast_xmit_packets $(( words / 1024 ))
  w $p/counters/unicast_rcv_packets $(( words * 3 / 1024 ))
  for c in duplicate_request implied_nak_seq_err local_ack_timeout_err np_cnp_sent \
           np_ecn_marked_roce_packets out_of_buffer out_of_sequence packet_seq_err req_cqe_error \
           req_cqe_flush_error req_remote_access_errors req_remote_invalid_request resp_cqe_error \
           resp_cqe_flush_error resp_local_length_error resp_remote_access_errors rnr_nak_retry_err \
           roce_adp_retrans roce_adp_retrans_to roce_slow_restart roce_slow_restart_cnps \
           roce_slow_restart_trans rp_cnp_handled rp_cnp_ignored rx_atomic_requests rx_dct_connect \
           rx_icrc_encapsulated rx_read_requests rx_write_requests; do
    w $p/hw_counters/$c 0
  done
  w $p/hw_counters/lifespan 10
  w $p/hw_counters/rx_write_requests $(( words / 64 ))
done
