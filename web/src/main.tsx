import { createRoot } from 'react-dom/client';
import { createBoardClient } from '@board-bff/client';
import { BoardProvider } from '@board-bff/client/react';
import { App } from './App.js';
import './styles.css';

// The BFF serves this app on its own origin; a `<meta name="board-bff">` may point elsewhere.
const baseUrl = document.querySelector<HTMLMetaElement>('meta[name="board-bff"]')?.content || location.origin;
const client = createBoardClient({ baseUrl });

createRoot(document.getElementById('root')!).render(
  <BoardProvider client={client}>
    <App />
  </BoardProvider>,
);
