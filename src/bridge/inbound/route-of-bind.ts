/** The route a bind belongs to, from the route table in use (the first that lists it), or null. */
import type { RouteTable } from '../routing.js';

export function routeOfBindIn(routes: () => RouteTable): (bindId: string) => string | null {
  return (bindId) => routes().routes.find((route) => route.binds.includes(bindId))?.id ?? null;
}
