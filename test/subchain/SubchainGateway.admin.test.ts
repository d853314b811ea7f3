import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, setStorageAt } from "@nomicfoundation/hardhat-network-helpers";
import {
  FAR_DEADLINE,
  MAX_PAYLOAD,
  NAMES,
  PIPE,
  OPERATION_READ,
  OPERATION_WRITE,
  deployGatewayFixture,
  interfaceId,
} from "./fixtures";
import { TEST_SUBCHAIN, attested, deployGateway } from "../helpers/attest";

/** Sub-chain id, attester set, threshold and epoch of a gateway that is not about attesters. */
const ATTESTED: [string, string[], number, number] = [TEST_SUBCHAIN, [ethers.Wallet.createRandom().address], 1, 1];

describe("SubchainGateway: deployment, registry, roles, outbound requests", function () {
  describe("constructor", function () {
    it("refuses the zero admin", async function () {
      const factory = await ethers.getContractFactory("SubchainGateway");
      await expect(factory.deploy(ethers.ZeroAddress, MAX_PAYLOAD, ...ATTESTED))
        .to.be.revertedWithCustomError(factory, "SubchainGatewayInvalidAdmin")
        .withArgs(ethers.ZeroAddress);
    });

    it("refuses a payload limit of zero or above the cap, accepts the cap", async function () {
      const [admin] = await ethers.getSigners();
      const factory = await ethers.getContractFactory("SubchainGateway");
      const cap = 64 * 1024;
      await expect(factory.deploy(admin.address, 0, ...ATTESTED))
        .to.be.revertedWithCustomError(factory, "SubchainGatewayInvalidPayloadLimit")
        .withArgs(0);
      await expect(factory.deploy(admin.address, cap + 1, ...ATTESTED))
        .to.be.revertedWithCustomError(factory, "SubchainGatewayInvalidPayloadLimit")
        .withArgs(cap + 1);
      const gateway = await factory.deploy(admin.address, cap, ...ATTESTED);
      expect(await gateway.maxPayloadSize()).to.equal(cap);
      expect(await gateway.MAX_PAYLOAD_SIZE_CAP()).to.equal(cap);
    });

    it("makes the admin the only role holder and answers ERC-165", async function () {
      const { gateway, admin, relayer, stranger } = await loadFixture(deployGatewayFixture);
      expect(await gateway.hasRole(await gateway.DEFAULT_ADMIN_ROLE(), admin.address)).to.equal(true);
      expect(await gateway.hasRole(await gateway.DEFAULT_ADMIN_ROLE(), relayer.address)).to.equal(false);
      expect(await gateway.hasRole(await gateway.RELAYER_ROLE(), stranger.address)).to.equal(false);
      const gatewayId = interfaceId(
        gateway.interface.fragments
          .filter((f) => f.type === "function")
          .map((f) => (f as unknown as { format(): string }).format())
          .filter((sig) => !isAccessControlOrConstant(sig) && !ATTESTER_FUNCTIONS.includes(sig)),
      );
      expect(await gateway.supportsInterface(gatewayId)).to.equal(true);
      expect(await gateway.supportsInterface(interfaceId(ATTESTER_FUNCTIONS))).to.equal(true); // IGatewayAttesters
      expect(await gateway.supportsInterface("0x01ffc9a7")).to.equal(true); // IERC165
      expect(await gateway.supportsInterface("0x7965db0b")).to.equal(true); // IAccessControl
      expect(await gateway.supportsInterface("0xffffffff")).to.equal(false);
    });
  });

  describe("business contract registry", function () {
    it("registers a contract: event, version, history", async function () {
      const { gateway, drug, admin } = await loadFixture(deployGatewayFixture);
      const name = ethers.id("DrugTraceability/v2-test");
      await expect(gateway.registerContract(name, drug))
        .to.emit(gateway, "BusinessContractRegistered")
        .withArgs(name, await drug.getAddress(), 1, admin.address);
      expect(await gateway.businessContract(name)).to.deep.equal([await drug.getAddress(), 1n]);
      expect(await gateway.businessContractAt(name, 1)).to.equal(await drug.getAddress());
      expect(await gateway.businessContractAt(name, 2)).to.equal(ethers.ZeroAddress);
    });

    it("re-registering a name makes a new version and retires the old address", async function () {
      const { gateway, drug, admin } = await loadFixture(deployGatewayFixture);
      const drugV2 = await ethers.deployContract("DrugTraceability", [gateway, admin.address]);
      await expect(gateway.registerContract(NAMES.drug, drugV2))
        .to.emit(gateway, "BusinessContractRegistered")
        .withArgs(NAMES.drug, await drugV2.getAddress(), 2, admin.address);
      expect(await gateway.businessContract(NAMES.drug)).to.deep.equal([await drugV2.getAddress(), 2n]);
      expect(await gateway.businessContractAt(NAMES.drug, 1)).to.equal(await drug.getAddress());
      expect(await gateway.businessContractAt(NAMES.drug, 2)).to.equal(await drugV2.getAddress());
      // The retired version is no longer a registered business contract: it may now hold a role.
      await expect(gateway.grantRole(await gateway.RELAYER_ROLE(), drug)).to.emit(gateway, "RoleGranted");
    });

    it("refuses a non-admin", async function () {
      const { gateway, drug, stranger, relayer } = await loadFixture(deployGatewayFixture);
      const adminRole = await gateway.DEFAULT_ADMIN_ROLE();
      await expect(gateway.connect(stranger).registerContract(NAMES.drug, drug))
        .to.be.revertedWithCustomError(gateway, "AccessControlUnauthorizedAccount")
        .withArgs(stranger.address, adminRole);
      await expect(gateway.connect(relayer).unregisterContract(NAMES.drug))
        .to.be.revertedWithCustomError(gateway, "AccessControlUnauthorizedAccount")
        .withArgs(relayer.address, adminRole);
    });

    it("refuses the zero name", async function () {
      const { gateway, drug } = await loadFixture(deployGatewayFixture);
      await expect(gateway.registerContract(ethers.ZeroHash, drug))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayInvalidContractName")
        .withArgs(ethers.ZeroHash);
    });

    it("refuses the gateway itself, the zero address and role holders as targets", async function () {
      const { gateway, admin, relayer } = await loadFixture(deployGatewayFixture);
      const name = ethers.id("Forbidden");
      for (const target of [await gateway.getAddress(), ethers.ZeroAddress, relayer.address, admin.address]) {
        await expect(gateway.registerContract(name, target))
          .to.be.revertedWithCustomError(gateway, "SubchainGatewayForbiddenTarget")
          .withArgs(target);
      }
    });

    it("refuses accounts and contracts that are not ICrossChainBusiness", async function () {
      const { gateway, admin, stranger } = await loadFixture(deployGatewayFixture);
      const otherGateway = await deployGateway(admin.address, MAX_PAYLOAD);
      const name = ethers.id("NotBusiness");
      for (const target of [stranger.address, await otherGateway.getAddress()]) {
        await expect(gateway.registerContract(name, target))
          .to.be.revertedWithCustomError(gateway, "SubchainGatewayNotBusinessContract")
          .withArgs(target);
      }
    });

    it("unregisters a contract: event, execute refused, history kept", async function () {
      const { gateway, evidence, admin, relayer } = await loadFixture(deployGatewayFixture);
      await expect(gateway.unregisterContract(NAMES.evidence))
        .to.emit(gateway, "BusinessContractUnregistered")
        .withArgs(NAMES.evidence, await evidence.getAddress(), admin.address);
      expect(await gateway.businessContract(NAMES.evidence)).to.deep.equal([ethers.ZeroAddress, 1n]);
      expect(await gateway.businessContractAt(NAMES.evidence, 1)).to.equal(await evidence.getAddress());
      const data = evidence.interface.encodeFunctionData("verify", [ethers.id("e")]);
      await expect(attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.evidence, OPERATION_READ, data))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayContractNotRegistered")
        .withArgs(NAMES.evidence);
      await expect(gateway.unregisterContract(NAMES.evidence))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayContractNotRegistered")
        .withArgs(NAMES.evidence);
      // Registering again continues the version numbering.
      await expect(gateway.registerContract(NAMES.evidence, evidence))
        .to.emit(gateway, "BusinessContractRegistered")
        .withArgs(NAMES.evidence, await evidence.getAddress(), 2, admin.address);
    });
    it("refuses a registration beyond MAX_REGISTRATIONS, the most an inbound record can name", async function () {
      const { gateway, drug } = await loadFixture(deployGatewayFixture);
      const max = await gateway.MAX_REGISTRATIONS();
      expect(max).to.equal(2n ** 18n - 1n);
      // The registration count shares slot 5 with the outbound nonce (bits 64-95); the fixture made 3. Slots 0-3
      // are EIP712's name and version and the attester set (its current set, the seats), 4 AccessControl's roles.
      const address = await gateway.getAddress();
      const slot = BigInt(await ethers.provider.getStorage(address, 5));
      expect(slot).to.equal(3n << 64n);
      await setStorageAt(address, 5, ethers.toBeHex((max - 1n) << 64n, 32));
      await expect(gateway.registerContract(ethers.id("last"), drug)).to.emit(gateway, "BusinessContractRegistered");
      await expect(gateway.registerContract(ethers.id("one too many"), drug))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayRegistryFull")
        .withArgs(max);
      expect(BigInt(await ethers.provider.getStorage(address, 5))).to.equal(max << 64n);
    });
  });

  describe("roles", function () {
    it("grants and revokes the relayer role with events; a revoked relayer is refused", async function () {
      const { gateway, evidence, admin, stranger } = await loadFixture(deployGatewayFixture);
      const role = await gateway.RELAYER_ROLE();
      await expect(gateway.grantRole(role, stranger.address))
        .to.emit(gateway, "RoleGranted")
        .withArgs(role, stranger.address, admin.address);
      const data = evidence.interface.encodeFunctionData("verify", [ethers.id("e")]);
      await expect(
        attested(gateway, stranger).execute(PIPE, 1, FAR_DEADLINE, NAMES.evidence, OPERATION_READ, data),
      ).to.emit(gateway, "InboundExecuted");
      await expect(gateway.revokeRole(role, stranger.address))
        .to.emit(gateway, "RoleRevoked")
        .withArgs(role, stranger.address, admin.address);
      await expect(attested(gateway, stranger).execute(PIPE, 2, FAR_DEADLINE, NAMES.evidence, OPERATION_READ, data))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayUnauthorizedRelayer")
        .withArgs(stranger.address);
    });

    it("never grants a gateway role to a registered business contract", async function () {
      const { gateway, drug, admin } = await loadFixture(deployGatewayFixture);
      for (const role of [await gateway.RELAYER_ROLE(), await gateway.DEFAULT_ADMIN_ROLE()]) {
        await expect(gateway.grantRole(role, drug))
          .to.be.revertedWithCustomError(gateway, "SubchainGatewayRoleForBusinessContract")
          .withArgs(await drug.getAddress());
      }
      // Still refused while the contract is registered under a second name, even after the first is removed.
      await gateway.registerContract(ethers.id("alias"), drug);
      await gateway.unregisterContract(NAMES.drug);
      await expect(gateway.grantRole(await gateway.RELAYER_ROLE(), drug))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayRoleForBusinessContract")
        .withArgs(await drug.getAddress());
      await gateway.unregisterContract(ethers.id("alias"));
      await expect(gateway.grantRole(await gateway.RELAYER_ROLE(), drug))
        .to.emit(gateway, "RoleGranted")
        .withArgs(await gateway.RELAYER_ROLE(), await drug.getAddress(), admin.address);
    });
  });

  describe("request (outbound, chain-initiated)", function () {
    async function expectedRequestId(gatewayAddress: string, nonce: bigint): Promise<string> {
      const { chainId } = await ethers.provider.getNetwork();
      return ethers.keccak256(
        ethers.AbiCoder.defaultAbiCoder().encode(["uint256", "address", "uint64"], [chainId, gatewayAddress, nonce]),
      );
    }

    it("emits CrossChainRequested with a unique id and the caller as sender", async function () {
      const { gateway, drug, stranger } = await loadFixture(deployGatewayFixture);
      const payload = drug.interface.encodeFunctionData("batch", [ethers.id("b")]);
      const id1 = await expectedRequestId(await gateway.getAddress(), 1n);
      const id2 = await expectedRequestId(await gateway.getAddress(), 2n);
      expect(await gateway.connect(stranger).request.staticCall(PIPE, NAMES.drug, OPERATION_READ, payload)).to.equal(
        id1,
      );
      await expect(gateway.connect(stranger).request(PIPE, NAMES.drug, OPERATION_READ, payload))
        .to.emit(gateway, "CrossChainRequested")
        .withArgs(id1, PIPE, stranger.address, NAMES.drug, OPERATION_READ, payload, 1);
      await expect(gateway.connect(stranger).request(PIPE, NAMES.drug, OPERATION_WRITE, payload))
        .to.emit(gateway, "CrossChainRequested")
        .withArgs(id2, PIPE, stranger.address, NAMES.drug, OPERATION_WRITE, payload, 2);
      expect(await gateway.outboundNonce()).to.equal(2);
    });

    it("accepts a payload of exactly the limit and refuses one byte more", async function () {
      const { gateway, stranger } = await loadFixture(deployGatewayFixture);
      const atLimit = ethers.hexlify(new Uint8Array(MAX_PAYLOAD).fill(7));
      await expect(gateway.connect(stranger).request(PIPE, NAMES.drug, OPERATION_WRITE, atLimit)).to.emit(
        gateway,
        "CrossChainRequested",
      );
      const tooLarge = ethers.hexlify(new Uint8Array(MAX_PAYLOAD + 1).fill(7));
      await expect(gateway.connect(stranger).request(PIPE, NAMES.drug, OPERATION_WRITE, tooLarge))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayPayloadTooLarge")
        .withArgs(MAX_PAYLOAD + 1, MAX_PAYLOAD);
    });

    it("refuses a zero pipe, a zero name, an unknown operation, a short payload, a blocked selector", async function () {
      const { gateway, drug } = await loadFixture(deployGatewayFixture);
      const payload = drug.interface.encodeFunctionData("batch", [ethers.id("b")]);
      await expect(gateway.request(ethers.ZeroHash, NAMES.drug, OPERATION_READ, payload))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayInvalidPipe")
        .withArgs(ethers.ZeroHash);
      await expect(gateway.request(PIPE, ethers.ZeroHash, OPERATION_READ, payload))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayInvalidContractName")
        .withArgs(ethers.ZeroHash);
      await expect(gateway.request(PIPE, NAMES.drug, 2, payload))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayInvalidOperation")
        .withArgs(2);
      await expect(gateway.request(PIPE, NAMES.drug, OPERATION_READ, "0x010203"))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayCallDataTooShort")
        .withArgs(3);
      const hook = drug.interface.encodeFunctionData("compensate", [ethers.id("r")]);
      await expect(gateway.request(PIPE, NAMES.drug, OPERATION_WRITE, hook))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewaySelectorBlocked")
        .withArgs(NAMES.drug, hook.slice(0, 10));
    });
  });
});

/** IGatewayAttesters' own functions: ISubchainGateway inherits them, so its ERC-165 id leaves them out. */
const ATTESTER_FUNCTIONS = [
  "updateAttesters(uint64,address[],uint8,bytes)",
  "attesterSet()",
  "attestationDomainSeparator()",
  "attestationDigest(bytes32,bytes32,uint64,bytes32,uint8,bytes,uint64)",
  "attesterSetChangeDigest(uint64,address[],uint8)",
  "subchainId()",
];

/** AccessControl's functions and the public constants are not part of ISubchainGateway's ERC-165 id. */
function isAccessControlOrConstant(signature: string): boolean {
  return [
    "DEFAULT_ADMIN_ROLE()",
    "ATTESTATION_TYPEHASH()",
    "ATTESTER_SET_CHANGE_TYPEHASH()",
    "MAX_ATTESTERS()",
    "eip712Domain()",
    "RELAYER_ROLE()",
    "MAX_PAYLOAD_SIZE_CAP()",
    "MAX_REGISTRATIONS()",
    "MAX_RESERVED_WORDS()",
    "MAX_TWO_PHASE_DURATION()",
    "MAX_TWO_PHASE_KEYS()",
    "RECORDS_PER_WORD()",
    "TWO_PHASE_GRACE()",
    "getRoleAdmin(bytes32)",
    "grantRole(bytes32,address)",
    "hasRole(bytes32,address)",
    "renounceRole(bytes32,address)",
    "revokeRole(bytes32,address)",
    "supportsInterface(bytes4)",
  ].includes(signature);
}
