namespace Fanfare.Emulator.Testcontainers;

/// <summary>
/// Builds a <see cref="FanfareEmulatorContainer" />: the Fanfare Emulator image with its four ports (admin 4800,
/// consumer 4802, beacon 4803, checkout 4805) bound to random host ports, ready once <c>GET /_emulator/health</c> on the
/// admin port answers 200 (the default seed is loaded).
/// <code>
/// await using var emulator = new FanfareEmulatorBuilder().WithOtpFixedCode("123456").Build();
/// await emulator.StartAsync();
/// var admin = new HttpClient { BaseAddress = emulator.GetAdminBaseAddress() };
/// </code>
/// </summary>
/// <inheritdoc cref="ContainerBuilder{TBuilderEntity, TContainerEntity, TConfigurationEntity}" />
public sealed class FanfareEmulatorBuilder : ContainerBuilder<FanfareEmulatorBuilder, FanfareEmulatorContainer, FanfareEmulatorConfiguration>
{
    /// <summary>
    /// The default image: the repository's <c>Dockerfile</c> built as <c>fanfare-emulator:0.1.0</c>
    /// (<c>docker build -t fanfare-emulator:0.1.0 .</c>, or <c>docker/build-local.sh</c> where images cannot be pulled).
    /// </summary>
    public const string FanfareEmulatorImage = "fanfare-emulator:0.1.0";

    /// <summary>Admin API and the <c>/_emulator</c> control plane.</summary>
    public const ushort AdminPort = 4800;

    /// <summary>Consumer API.</summary>
    public const ushort ConsumerPort = 4802;

    /// <summary>Beacon API.</summary>
    public const ushort BeaconPort = 4803;

    /// <summary>Checkout API.</summary>
    public const ushort CheckoutPort = 4805;

    /// <summary>Where <see cref="WithSeedFile" /> / <see cref="WithSeed" /> put the seed inside the container.</summary>
    public const string SeedFilePath = "/seed/seed.json";

    /// <summary>Initializes a new instance of the <see cref="FanfareEmulatorBuilder" /> class with <see cref="FanfareEmulatorImage" />.</summary>
    public FanfareEmulatorBuilder()
        : this(FanfareEmulatorImage)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="FanfareEmulatorBuilder" /> class.</summary>
    /// <param name="image">The full Docker image name, including the repository and tag (e.g. <c>fanfare-emulator:0.1.0</c>).</param>
    public FanfareEmulatorBuilder(string image)
        : this(new DockerImage(image))
    {
    }

    /// <summary>Initializes a new instance of the <see cref="FanfareEmulatorBuilder" /> class.</summary>
    /// <param name="image">The image of the container.</param>
    public FanfareEmulatorBuilder(IImage image)
        : this(new FanfareEmulatorConfiguration())
    {
        DockerResourceConfiguration = Init().WithImage(image).DockerResourceConfiguration;
    }

    private FanfareEmulatorBuilder(FanfareEmulatorConfiguration resourceConfiguration)
        : base(resourceConfiguration)
    {
        DockerResourceConfiguration = resourceConfiguration;
    }

    /// <inheritdoc />
    protected override FanfareEmulatorConfiguration DockerResourceConfiguration { get; }

    /// <summary>Starts the emulator with this seed file instead of the built-in default seed (copied into the container).</summary>
    /// <param name="path">A seed file on this machine (the format of <c>seed/default.json</c>).</param>
    public FanfareEmulatorBuilder WithSeedFile(string path)
    {
        return WithSeed(File.ReadAllText(path));
    }

    /// <summary>Starts the emulator with this seed (JSON, the format of <c>seed/default.json</c>).</summary>
    /// <param name="json">The seed document.</param>
    public FanfareEmulatorBuilder WithSeed(string json)
    {
        return WithResourceMapping(Encoding.UTF8.GetBytes(json), SeedFilePath)
            .WithEnvironment("Emulator__SeedFile", SeedFilePath);
    }

    /// <summary>Every one-time code (email and SMS) is this code, so a test can sign in without reading the inbox.</summary>
    /// <param name="code">The code, e.g. <c>123456</c>.</param>
    public FanfareEmulatorBuilder WithOtpFixedCode(string code)
    {
        return WithEnvironment("Emulator__OtpFixedCode", code);
    }

    /// <summary>Also relays every email the emulator sends to this SMTP server (e.g. a Mailpit container on the same network).</summary>
    /// <param name="host">The SMTP host as the emulator container sees it.</param>
    /// <param name="port">The SMTP port (Mailpit: 1025).</param>
    public FanfareEmulatorBuilder WithSmtpRelay(string host, int port = 1025)
    {
        return WithEnvironment("Emulator__SmtpHost", host)
            .WithEnvironment("Emulator__SmtpPort", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <inheritdoc />
    public override FanfareEmulatorContainer Build()
    {
        Validate();
        return new FanfareEmulatorContainer(DockerResourceConfiguration);
    }

    /// <inheritdoc />
    protected override FanfareEmulatorBuilder Init()
    {
        return base.Init()
            .WithPortBinding(AdminPort, true)
            .WithPortBinding(ConsumerPort, true)
            .WithPortBinding(BeaconPort, true)
            .WithPortBinding(CheckoutPort, true)
            .WithWaitStrategy(Wait.ForUnixContainer().UntilHttpRequestIsSucceeded(request =>
                request.ForPath("/_emulator/health").ForPort(AdminPort)));
    }

    /// <inheritdoc />
    protected override FanfareEmulatorBuilder Clone(IResourceConfiguration<CreateContainerParameters> resourceConfiguration)
    {
        return Merge(DockerResourceConfiguration, new FanfareEmulatorConfiguration(resourceConfiguration));
    }

    /// <inheritdoc />
    protected override FanfareEmulatorBuilder Clone(IContainerConfiguration resourceConfiguration)
    {
        return Merge(DockerResourceConfiguration, new FanfareEmulatorConfiguration(resourceConfiguration));
    }

    /// <inheritdoc />
    protected override FanfareEmulatorBuilder Merge(FanfareEmulatorConfiguration oldValue, FanfareEmulatorConfiguration newValue)
    {
        return new FanfareEmulatorBuilder(new FanfareEmulatorConfiguration(oldValue, newValue));
    }
}
