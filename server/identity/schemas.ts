import { z } from 'zod';

export const nameSchema = z
  .string({ error: 'Enter a name' })
  .trim()
  .min(1, 'Enter a name')
  .max(64, 'Use at most 64 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'Use letters, digits, dot, dash and underscore, starting with a letter or digit');

export const passwordSchema = z
  .string({ error: 'Enter a password' })
  .min(8, 'Use at least 8 characters')
  .max(200, 'Use at most 200 characters');

export const idSchema = z
  .string({ error: 'Missing id' })
  .trim()
  .min(1, 'Missing id')
  .max(64)
  .regex(/^[A-Za-z0-9-]+$/, 'Not a valid id');

export const createProjectSchema = z.object({
  name: nameSchema,
  description: z.string().trim().max(255, 'Use at most 255 characters').default(''),
});

export const createUserSchema = z.object({
  name: nameSchema,
  password: passwordSchema,
  isAdmin: z.boolean().default(false),
  projectId: idSchema.optional(),
  role: z.enum(['member', 'reader']).default('member'),
});

export const membershipSchema = z.object({
  userId: idSchema,
  projectId: idSchema,
  role: z.enum(['member', 'reader'], { error: 'Choose member or reader' }),
});

export const setEnabledSchema = z.object({
  id: idSchema,
  enabled: z.boolean(),
});

/** Your own password: the current one proves it is you; the new one is typed twice. */
export const changeOwnPasswordSchema = z
  .object({
    current: z.string({ error: 'Enter your current password' }).min(1, 'Enter your current password').max(1000),
    password: passwordSchema,
    confirm: z.string({ error: 'Type the new password again' }),
  })
  .refine((data) => data.password === data.confirm, { message: 'The two new passwords differ', path: ['confirm'] })
  .refine((data) => data.password !== data.current, { message: 'Choose a password other than the current one', path: ['password'] });

export const setPasswordSchema = z.object({
  userId: idSchema,
  password: passwordSchema,
});
