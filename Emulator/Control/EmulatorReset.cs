using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Infrastructure.Scheduling;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;
using Fanfare.Emulator.Hosting;

namespace Fanfare.Emulator.Control;

/// <summary><c>POST /_emulator/reset</c>: empties the store, puts the clock back on system time, re-applies the seed.</summary>
public sealed class EmulatorReset(DocumentStore store, EmulatorClock clock, Scheduler scheduler, SeedLoader seed,
    IEnumerable<IFeatureModule> modules, IServiceProvider services)
{
    /// <summary>Resets, and returns once the new state is in the file: the reset commits on the calling thread (see
    /// <see cref="DocumentStore.CommitInPlace"/>), even inside a request whose commit waits are deferred.</summary>
    public void Run()
    {
        using var inPlace = store.CommitInPlace();
        lock (store.Sync)
        {
            store.Transaction(() =>
            {
                store.Clear();
                clock.ResetToSystem();
                foreach (var m in modules) m.OnReset(services);
                seed.Apply();
            });
            scheduler.Rebuild();
        }
    }
}
