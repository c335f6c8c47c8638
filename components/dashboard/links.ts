/** Where the dashboard's rows link to: the operator console's pages, or the portal's. */
export interface DashboardLinks {
  volume: (id: string) => string;
  backup: (id: string) => string;
  backups: string;
  events?: string;
  services?: string;
}

export const ADMIN_LINKS: DashboardLinks = {
  volume: (id) => `/admin/volumes/${id}`,
  backup: (id) => `/admin/backups/${id}`,
  backups: '/admin/backups',
  events: '/admin/events',
  services: '/admin/services',
};

export const PORTAL_LINKS: DashboardLinks = {
  volume: (id) => `/volumes/${id}`,
  backup: (id) => `/backups/${id}`,
  backups: '/backups',
};
