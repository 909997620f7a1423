/** The signed-in user as the API shows it (`GET /api/user`). `id` is the provider's `sub`. */
export interface SessionUser {
  id: string;
  username: string;
  name: string;
  email: string | null;
  roles: string[];
}
