/**
 * The bind registry as bind ownership drives it: the binds to share are the registry's enabled
 * binds; a bind this replica owns is started, any other is held as standby with its owner's name.
 */
import type { BindRegistry } from '../../binds/registry.js';
import type { OwnershipTarget } from './bind-ownership.js';

export function registryTarget(registry: BindRegistry): OwnershipTarget {
  return {
    desired: () =>
      registry
        .list()
        .map((b) => b.id)
        .filter((id) => !registry.isDisabled(id)),
    run: (id) => {
      // While shutting down nothing starts; a bind removed meanwhile is not started either.
      if (registry.isDraining || registry.get(id) === undefined) return;
      registry.start(id);
    },
    hold: async (id, owner) => {
      if (registry.get(id) === undefined) return;
      await registry.standby(id, owner);
    },
    heldFor: (id) => registry.get(id)?.standbyFor ?? null,
    starting: (id) => {
      const state = registry.get(id)?.state;
      return state === 'connecting' || state === 'binding';
    },
  };
}
