import type { LoadBalancingAlgorithm } from '../../config/gateway-config.types';
import type { BalancingStrategy } from './balancing-strategy.interface';
import { IpHashStrategy } from './ip-hash.strategy';
import { LeastConnectionsStrategy } from './least-connections.strategy';
import { RoundRobinStrategy } from './round-robin.strategy';
import { WeightedStrategy } from './weighted.strategy';

export function createStrategy(algorithm: LoadBalancingAlgorithm): BalancingStrategy {
  switch (algorithm) {
    case 'round-robin':
      return new RoundRobinStrategy();
    case 'least-conn':
      return new LeastConnectionsStrategy();
    case 'ip-hash':
      return new IpHashStrategy();
    case 'weighted':
      return new WeightedStrategy();
  }
}
