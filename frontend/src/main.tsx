import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import './styles/app.css';
import { Connection, browserEnv } from './api/connection';
import { App } from './app/App';

const connection = new Connection(browserEnv());

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App connection={connection} />
  </StrictMode>,
);
