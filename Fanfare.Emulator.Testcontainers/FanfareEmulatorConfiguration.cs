namespace Fanfare.Emulator.Testcontainers;

/// <inheritdoc cref="ContainerConfiguration" />
public sealed class FanfareEmulatorConfiguration : ContainerConfiguration
{
    /// <summary>Initializes a new instance of the <see cref="FanfareEmulatorConfiguration" /> class.</summary>
    public FanfareEmulatorConfiguration()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="FanfareEmulatorConfiguration" /> class.</summary>
    /// <param name="resourceConfiguration">The Docker resource configuration.</param>
    public FanfareEmulatorConfiguration(IResourceConfiguration<CreateContainerParameters> resourceConfiguration)
        : base(resourceConfiguration)
    {
        // Passes the configuration upwards to the base implementations to create an updated immutable copy.
    }

    /// <summary>Initializes a new instance of the <see cref="FanfareEmulatorConfiguration" /> class.</summary>
    /// <param name="resourceConfiguration">The Docker resource configuration.</param>
    public FanfareEmulatorConfiguration(IContainerConfiguration resourceConfiguration)
        : base(resourceConfiguration)
    {
        // Passes the configuration upwards to the base implementations to create an updated immutable copy.
    }

    /// <summary>Initializes a new instance of the <see cref="FanfareEmulatorConfiguration" /> class.</summary>
    /// <param name="resourceConfiguration">The Docker resource configuration.</param>
    public FanfareEmulatorConfiguration(FanfareEmulatorConfiguration resourceConfiguration)
        : this(new FanfareEmulatorConfiguration(), resourceConfiguration)
    {
        // Passes the configuration upwards to the base implementations to create an updated immutable copy.
    }

    /// <summary>Initializes a new instance of the <see cref="FanfareEmulatorConfiguration" /> class.</summary>
    /// <param name="oldValue">The old Docker resource configuration.</param>
    /// <param name="newValue">The new Docker resource configuration.</param>
    public FanfareEmulatorConfiguration(FanfareEmulatorConfiguration oldValue, FanfareEmulatorConfiguration newValue)
        : base(oldValue, newValue)
    {
    }
}
