export * from './identity';
export * from './storage';
export * from './quotas';
export * from './operations';
export * from './notifications';
export * from './policies';
