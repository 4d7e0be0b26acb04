/**
 * The GraphQL context every operation runs with (HTTP and WebSocket alike). The server builds it
 * per operation; it may carry more fields (auth, logger) — the resolvers only need `services`.
 */
import type { Services } from '../services';

/** What the resolvers read from the context. */
export interface GraphQLContext {
  /** The process's services (createServices). */
  services: Services;
}
