using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Packaging;

/// <summary>
/// What can be checked of the Docker files without a Docker engine: the image's contract (ports, volume, non-root user,
/// health probe) and that the well-known keys written into docker-compose.yml and README.md are the ones the default
/// seed really produces (<c>GET /_emulator/organizations</c>).
/// </summary>
[Trait("Category", "Packaging")]
public sealed class DockerArtifactsTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private static readonly string Root = DockerfileSpec.RepositoryRoot();

    [Fact]
    public void Dockerfile_builds_a_NativeAOT_executable_on_the_sdk_runs_it_on_runtime_deps_as_non_root_with_the_four_ports_and_a_data_volume()
    {
        var d = DockerfileSpec.Load(Path.Combine(Root, "Dockerfile"));
        Assert.Equal(["mcr.microsoft.com/dotnet/sdk:10.0", "mcr.microsoft.com/dotnet/runtime-deps:10.0"], d.BaseImages);
        // … as build arguments, so docker/build-local.sh can pass local stand-ins where images cannot be pulled.
        Assert.Equal(["${SDK_IMAGE}", "${RUNTIME_IMAGE}"], d.BaseImagesAsWritten);
        // No `# syntax=` directive: BuildKit would pull that frontend image from a registry.
        Assert.DoesNotContain(File.ReadLines(Path.Combine(Root, "Dockerfile")), l => l.TrimStart().StartsWith("# syntax", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(["publish", "Emulator/Emulator.csproj"], d.PublishArguments[..2]);
        // NativeAOT: the build stage gets the C toolchain the linker needs; the runtime stage has no .NET runtime.
        Assert.Contains("-p:PublishAot=true", d.PublishArguments);
        Assert.Contains(d.Instructions, i => i.Stage == 0 && i.Keyword == "RUN" && i.Arguments.Contains("apt-get install") && i.Arguments.Contains("clang") && i.Arguments.Contains("zlib1g-dev"));
        Assert.Contains(d.Instructions, i => i.Stage == d.FinalStage && i.Keyword == "COPY" && i.Arguments.StartsWith("--from=build /app", StringComparison.Ordinal));

        Assert.Equal([4800, 4802, 4803, 4805], d.ExposedPorts.Order());
        Assert.Equal(["/data"], d.Volumes);
        Assert.Equal("/data", d.Env["Emulator__DataDirectory"]);
        Assert.Equal("0.0.0.0", d.Env["Emulator__BindAddress"]);
        Assert.False(string.IsNullOrWhiteSpace(d.User) || d.User is "root" or "0" || d.User.StartsWith("root:") || d.User.StartsWith("0:"),
            $"the image must not run as root (USER {d.User})");
        Assert.Contains(d.Instructions, i => i.Stage == d.FinalStage && i.Keyword == "WORKDIR" && i.Arguments == "/app");
        Assert.Equal(["/app/Fanfare.Emulator"], d.Entrypoint);
        Assert.Equal(["/app/Fanfare.Emulator", "healthcheck"], d.HealthcheckCommand);
    }

    [Fact]
    public async Task Compose_file_and_README_carry_the_default_seeds_real_well_known_keys()
    {
        await emu.ResetAsync();
        var orgs = await emu.OrganizationsAsync();
        Assert.NotEmpty(orgs);

        var compose = File.ReadAllText(Path.Combine(Root, "docker-compose.yml"));
        var demo = orgs[0];
        foreach (var (name, value) in new[]
        {
            ("FANFARE_ORGANIZATION_ID", demo.Id), ("FANFARE_PUBLISHABLE_KEY", demo.PublishableKey),
            ("FANFARE_SECRET_KEY", demo.SecretKey), ("FANFARE_WEBHOOK_SECRET", demo.WebhookSecret),
            ("FANFARE_CONSUMER_URL", "http://emulator:4802"), ("FANFARE_ADMIN_URL", "http://emulator:4800"),
            ("Emulator__SmtpHost", "mailpit"), ("Emulator__SmtpPort", "\"1025\""),
        })
            Assert.True(compose.Contains($"{name}: {value}", StringComparison.Ordinal), $"docker-compose.yml should set {name}: {value}");

        var readme = File.ReadAllText(Path.Combine(Root, "README.md"));
        foreach (var o in orgs)
            foreach (var value in new[] { o.Id, o.PublishableKey, o.SecretKey, o.LivePublishableKey, o.LiveSecretKey, o.WebhookSecret, o.CustomerTokenSecret })
                Assert.True(readme.Contains(value, StringComparison.Ordinal), $"README.md's well-known keys table lacks {o.Name}'s {value}");
    }
}
