import { useState } from 'react';
import type { Connection } from '../api/connection';

/** Web mode without a token: the link printed in the terminal, or the token pasted by hand. */
export function SignIn({ connection, reason }: { connection: Connection; reason: string }) {
  const [token, setToken] = useState('');
  return (
    <main className="signin" aria-labelledby="signin-title">
      <div className="welcome-card">
        <h1 id="signin-title">Sign in to Hearth</h1>
        <p role="alert">{reason}</p>
        <p>
          When Hearth starts in a terminal it prints a line <code>Open Hearth: http://127.0.0.1:…/#/auth/…</code>. Open
          that link in this browser; it works once.
        </p>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (token.trim()) void connection.useToken(token);
          }}
        >
          <label htmlFor="token-input">Or paste the token printed for this launch</label>
          <div className="token-row">
            <input
              id="token-input"
              type="password"
              autoComplete="off"
              value={token}
              onChange={(e) => setToken(e.target.value)}
            />
            <button type="submit" className="btn btn-primary" disabled={!token.trim()}>
              Sign in
            </button>
          </div>
        </form>
      </div>
    </main>
  );
}
