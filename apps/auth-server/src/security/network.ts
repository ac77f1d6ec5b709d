// The network a client address belongs to, the unit of every per-network limit: an IPv4 address, or
// the /64 of an IPv6 address (one subscriber's subnet, which its owner can fill with addresses at will).
// An IPv4-mapped IPv6 address (::ffff:192.0.2.1, how a dual-stack socket shows an IPv4 client) is its
// IPv4 address. Anything that is not an address (no socket address, a malformed forwarded header) is
// one network of its own, so it gains nothing.
import ipaddr from 'ipaddr.js';

export function networkOf(address: string | undefined): string {
  if (!address || !ipaddr.isValid(address)) return 'unknown';
  const ip = ipaddr.process(address);
  if (ip.kind() === 'ipv4') return ip.toString();
  const prefix = (ip as ipaddr.IPv6).parts.slice(0, 4);
  return `${new ipaddr.IPv6([...prefix, 0, 0, 0, 0]).toRFC5952String()}/64`;
}
