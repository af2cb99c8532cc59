using Fanfare.Emulator.Testcontainers;

namespace MerchantIntegrationTests;

/// <summary>One emulator container for the whole test class: started before the first test, removed after the last.</summary>
public sealed class FanfareEmulatorFixture : IAsyncLifetime
{
    // The default image is fanfare-emulator:0.1.0 (docker build -t fanfare-emulator:0.1.0 . in the emulator's repository).
    public FanfareEmulatorContainer Emulator { get; } = new FanfareEmulatorBuilder()
        .WithOtpFixedCode("123456")
        .Build();

    public async Task InitializeAsync()
    {
        if (DockerAvailable) await Emulator.StartAsync();
    }

    public Task DisposeAsync() => Emulator.DisposeAsync().AsTask();

    // This repository's guard (skip on a machine without Docker, fail under CI=true); your suite can drop it.
    private static bool DockerAvailable
    {
        get
        {
            try { Fanfare.Emulator.Tests.Packaging.DockerEngine.Require(); return true; }
            catch (Exception) { return false; }
        }
    }
}
