/** Imported first by tests that run the sign-in wrapper: next-auth reads its secret when it is configured. */
process.env.AUTH_SECRET ??= 'a-test-secret-of-at-least-thirty-two-characters';
