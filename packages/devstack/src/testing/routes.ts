interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

/**
 * The routes an Express router serves, as `METHOD /path/{param}` (OpenAPI's way of naming a parameter), without the
 * route that serves the document itself and without `router.all` guards (they refuse methods, they serve none): what a
 * service's document test compares its operations with.
 */
export function servedRoutes(router: unknown): string[] {
  return (router as { stack: RouteLayer[] }).stack
    .filter((layer) => layer.route)
    .flatMap((layer) => Object.keys(layer.route!.methods).map((method) => `${method.toUpperCase()} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`))
    .filter((route) => !route.endsWith('/openapi.json') && !route.startsWith('_ALL '));
}
