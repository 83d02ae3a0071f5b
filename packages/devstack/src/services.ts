/** The platform's services as the devstack runs them; a new service adds one entry here. */
export interface ServiceSpec {
  /** Dapr app id, also the service folder name. */
  appId: string;
  /** Entry point, relative to the repo root (built by `tsc --build`). */
  main: string;
  /** Public ingress prefix → the app's own base path. */
  ingress: { prefix: string; appPath: string };
  database: string;
}

export const platformServices: readonly ServiceSpec[] = [
  {
    appId: 'categories',
    main: 'services/categories/dist/main.js',
    ingress: { prefix: '/api/categories', appPath: '/categories' },
    database: 'categories',
  },
];
