import { ConversationList } from '../conversations/ConversationList';
import { Icon } from '../ui/Icon';
import type { IconName } from '../ui/Icon';
import { LoadStrip } from './LoadStrip';
import type { Route } from './router';

const NAV: { name: Route['name']; label: string; icon: IconName; href: string }[] = [
  { name: 'chat', label: 'Chat', icon: 'chat', href: '#/chat' },
  { name: 'documents', label: 'Documents', icon: 'documents', href: '#/documents' },
  { name: 'models', label: 'Models', icon: 'models', href: '#/models' },
  { name: 'monitor', label: 'Monitor', icon: 'monitor', href: '#/monitor' },
  { name: 'settings', label: 'Settings', icon: 'settings', href: '#/settings' },
];

export function Sidebar({ route, open, onNavigate }: { route: Route; open: boolean; onNavigate: () => void }) {
  return (
    <aside className={`sidebar${open ? ' open' : ''}`} aria-label="Sidebar">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">
          ◆
        </span>
        Hearth
      </div>
      <nav aria-label="Main" className="main-nav">
        <ul>
          {NAV.map((item) => (
            <li key={item.name}>
              <a
                href={item.href}
                aria-current={route.name === item.name ? 'page' : undefined}
                className="nav-link"
                onClick={onNavigate}
              >
                <Icon name={item.icon} /> {item.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <ConversationList activeId={route.name === 'chat' ? route.id : null} />
      <LoadStrip />
    </aside>
  );
}
