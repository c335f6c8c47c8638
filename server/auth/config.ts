import NextAuth, { CredentialsSignin } from 'next-auth';
import Credentials from 'next-auth/providers/credentials';
import { z } from 'zod';
import { signInWithPassword } from './credentials';
import { SignInThrottled, sourceAddress } from './sign-in-throttle';

const credentialsSchema = z.object({
  username: z.string().trim().min(1).max(255),
  password: z.string().min(1).max(1000),
});

class InvalidCredentials extends CredentialsSignin {
  code = 'invalid_credentials';
}

/** A locked account or address: the login form shows the lock's own message. */
export class SignInLocked extends CredentialsSignin {
  code = 'locked';
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * Console sign-in. Sessions are JWTs that carry only the user id and a session version; roles are
 * read from the database on every request (server/auth/session.ts).
 */
export const { handlers, auth, signIn, signOut } = NextAuth({
  trustHost: true,
  session: { strategy: 'jwt', maxAge: 12 * 60 * 60 },
  pages: { signIn: '/login' },
  logger: {
    // A wrong password is an audit event, and a session cookie that does not decrypt (garbage, or
    // signed with an earlier secret) makes a signed-out request: neither is the server's error, and
    // logging them would let any client fill the log.
    error: (error) => {
      if (error instanceof CredentialsSignin || (error as { type?: string }).type === 'JWTSessionError') return;
      console.error('[auth]', error.message);
    },
  },
  providers: [
    Credentials({
      credentials: { username: {}, password: {} },
      async authorize(raw, request) {
        const parsed = credentialsSchema.safeParse(raw);
        if (!parsed.success) throw new InvalidCredentials();
        let user;
        try {
          user = await signInWithPassword({ name: parsed.data.username }, parsed.data.password, {
            channel: 'console',
            address: sourceAddress(request.headers),
          });
        } catch (error) {
          if (error instanceof SignInThrottled) throw new SignInLocked(error.message);
          throw error;
        }
        if (!user) throw new InvalidCredentials();
        return { id: user.id, name: user.name, sessionVersion: user.sessionVersion };
      },
    }),
  ],
  callbacks: {
    jwt({ token, user }) {
      if (user) token.sessionVersion = (user as { sessionVersion?: number }).sessionVersion;
      return token;
    },
    session({ session, token }) {
      return { ...session, user: { ...session.user, id: token.sub! }, sessionVersion: token.sessionVersion as number };
    },
  },
});
