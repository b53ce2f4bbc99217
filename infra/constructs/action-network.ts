/**
 * The Docker network ec2-mode action containers run on, and the firewall around it, as commands
 * for the container instances' user data.
 *
 * The invoker runs on the host network with the host's Docker socket (root on the host) and with
 * its task role's credentials; the instance has its own role. Action code is untrusted, so its
 * containers run behind Docker's bridge NAT on `ACTION_NETWORK`, and packets entering the host
 * from that bridge may not reach:
 * - the instance metadata service (169.254.169.254) or the ECS task metadata and credentials
 *   endpoint (169.254.170.2), nor anything else link-local (169.254.0.0/16);
 * - the VPC (its CIDR) or any other private range (10/8, 172.16/12, 192.168/16, and the 100.64/10
 *   shared space VPCs may use), where AWS endpoints or other tenants' services may answer;
 * * - the host itself (the INPUT chain): its agent ports, anything else listening there, and the ECS
 *   agent's credentials proxy, to which the agent DNATs 169.254.170.2 (that DNAT makes it local
 *   traffic, which never passes the FORWARD chain and DOCKER-USER).
 * What actions legitimately need stays open: the public internet, which includes the platform's
 * own API (`__OW_API_HOST`, API Gateway's public endpoint), and DNS to the resolvers the host uses
 * (Docker's embedded DNS forwards queries from the container's namespace), port 53 only.
 * Containers on the network cannot talk to one another (inter-container communication off).
 *
 * The script runs from a systemd unit after Docker and before the ECS agent, at every boot and
 * whenever Docker restarts (it is idempotent: it refills its own chains). The invoker checks the
 * result before running anything (lib/invoker/network-self-test.ts).
 */

/** The Docker network of action containers (the invoker's `SKYWHISK_DOCKER_NETWORK`). */
export const ACTION_NETWORK = 'skywhisk-actions';
/** Its bridge interface on the host, named so the firewall can match it. */
export const ACTION_BRIDGE = 'skywhisk0';

/** The metadata and credentials endpoints: dropped by name before anything else is considered. */
export const METADATA_ADDRESSES = ['169.254.169.254', '169.254.170.2'] as const;
/** Ranges actions may not reach (besides the VPC's own CIDR). */
export const PRIVATE_RANGES = ['169.254.0.0/16', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'] as const;
/** The Amazon-provided DNS server every VPC answers on, link-local. */
export const AMAZON_DNS = '169.254.169.253';

const SCRIPT_PATH = '/usr/local/sbin/skywhisk-action-network';
const UNIT = 'skywhisk-action-network.service';

/**
 * The script that creates the network and fills the firewall chains. `vpcCidr` (a token is fine:
 * CloudFormation fills it in) is dropped besides the private ranges, for VPCs outside them.
 */
export function actionNetworkScript(vpcCidr?: string): string {
  const blocked = [...(vpcCidr ? [vpcCidr] : []), ...PRIVATE_RANGES];
  return [
    '#!/bin/bash',
    '# Skywhisk: the Docker network of action containers and its firewall (infra/constructs/action-network.ts).',
    'set -euo pipefail',
    `NETWORK=${ACTION_NETWORK}`,
    `BRIDGE=${ACTION_BRIDGE}`,
    'for _ in $(seq 120); do docker info >/dev/null 2>&1 && break; sleep 1; done',
    'if ! docker network inspect "$NETWORK" >/dev/null 2>&1; then',
    '  docker network create --driver bridge --opt com.docker.network.bridge.name="$BRIDGE" --opt com.docker.network.bridge.enable_icc=false "$NETWORK"',
    'fi',
    '# Forwarded traffic from the bridge (DOCKER-USER runs before Docker\'s own FORWARD rules).',
    'iptables -w -N SKYWHISK-ACTIONS 2>/dev/null || iptables -w -F SKYWHISK-ACTIONS',
    ...METADATA_ADDRESSES.map((address) => `iptables -w -A SKYWHISK-ACTIONS -d ${address}/32 -j DROP`),
    '# DNS to the resolvers Docker forwards to (not loopback ones: those it queries from the host itself).',
    `RESOLVERS="${AMAZON_DNS} $({ cat /run/systemd/resolve/resolv.conf /etc/resolv.conf 2>/dev/null || true; } | awk '$1 == "nameserver" && $2 ~ /^[0-9.]+$/ && $2 !~ /^127\\./ { print $2 }' | sort -u | tr '\\n' ' ')"`,
    'for resolver in $RESOLVERS; do',
    '  for protocol in udp tcp; do iptables -w -A SKYWHISK-ACTIONS -d "$resolver/32" -p "$protocol" --dport 53 -j RETURN; done',
    'done',
    ...blocked.map((range) => `iptables -w -A SKYWHISK-ACTIONS -d ${range} -j DROP`),
    'iptables -w -C DOCKER-USER -i "$BRIDGE" -j SKYWHISK-ACTIONS 2>/dev/null || iptables -w -I DOCKER-USER 1 -i "$BRIDGE" -j SKYWHISK-ACTIONS',
    '# Traffic from the bridge to the host itself: only replies to connections the host (the invoker) opened.',
    'iptables -w -N SKYWHISK-ACTIONS-INPUT 2>/dev/null || iptables -w -F SKYWHISK-ACTIONS-INPUT',
    'iptables -w -A SKYWHISK-ACTIONS-INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
    'iptables -w -A SKYWHISK-ACTIONS-INPUT -j DROP',
    'iptables -w -C INPUT -i "$BRIDGE" -j SKYWHISK-ACTIONS-INPUT 2>/dev/null || iptables -w -I INPUT 1 -i "$BRIDGE" -j SKYWHISK-ACTIONS-INPUT',
    '',
  ].join('\n');
}

/** The systemd unit running the script after Docker (again when Docker restarts) and before the ECS agent. */
export function actionNetworkUnit(): string {
  return [
    '[Unit]',
    'Description=Skywhisk action network: Docker bridge and firewall for action containers',
    'Requires=docker.service',
    'After=docker.service',
    'PartOf=docker.service',
    'Before=ecs.service',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    `ExecStart=${SCRIPT_PATH}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target docker.service',
    '',
  ].join('\n');
}

/** User data commands installing the script and its unit, and running it now (before the ECS agent starts). */
export function actionNetworkUserData(vpcCidr?: string): string[] {
  return [
    `cat > ${SCRIPT_PATH} <<'SKYWHISK_SCRIPT'`,
    actionNetworkScript(vpcCidr) + 'SKYWHISK_SCRIPT',
    `chmod 0755 ${SCRIPT_PATH}`,
    `cat > /etc/systemd/system/${UNIT} <<'SKYWHISK_UNIT'`,
    actionNetworkUnit() + 'SKYWHISK_UNIT',
    'systemctl daemon-reload',
    `systemctl enable --now ${UNIT}`,
  ];
}
