// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ICreditScore} from "../interfaces/ICreditScore.sol";
import {IMembership} from "../interfaces/IMembership.sol";
import {ITransactionLedgerEndorsement} from "../interfaces/ITransactionLedger.sol";
import {LedgerStorage} from "./LedgerStorage.sol";
import {TxId} from "../types/Ids.sol";

/**
 * @title LedgerEndorsement
 * @notice The transaction ledger's weighted verification ({ITransactionLedgerEndorsement.endorse}, one or many). It
 * holds no state of its own: the ledger makes it in its constructor and delegatecalls it, so it runs on the ledger's
 * storage, under the ledger's address, with the ledger's caller.
 * @dev Split from the ledger to keep the ledger's code under the EIP-170 size limit with room to grow; an endorsement
 * pays one delegatecall (about 2.7k gas). Called directly it refuses everything ({LedgerDirectCall}).
 */
contract LedgerEndorsement is ITransactionLedgerEndorsement, LedgerStorage {
    address private immutable _self = address(this);

    /// @dev Only inside the ledger: the module's own storage is never initialised.
    modifier onlyDelegated() {
        if (address(this) == _self) revert LedgerDirectCall();
        _;
    }

    /// @param membership_ the ledger's membership contract
    /// @param voting the ledger's voting tickets contract
    constructor(IMembership membership_, address voting) LedgerStorage(membership_, voting) {}

    /// @inheritdoc ITransactionLedgerEndorsement
    function endorse(TxId txId, bytes32 resultSetHash) external onlyDelegated {
        Verifier memory v = _requireVerifier();
        Reports memory out = Reports(new Report[](2), 0, Standing(0, 0), _settings);
        _endorse(v, txId, resultSetHash, out);
        // INTERACTIONS
        _send(out.items, out.count);
    }

    /// @inheritdoc ITransactionLedgerEndorsement
    function endorseMany(EndorseRequest[] calldata requests) external onlyDelegated {
        _requireBatchSize(requests.length);
        // One caller: its standing is asked once, before any effect; nothing in the loop can change it.
        Verifier memory v = _requireVerifier();
        Reports memory out = Reports(new Report[](2 * requests.length), 0, Standing(0, 0), _settings);
        for (uint256 i = 0; i < requests.length; ++i) {
            _endorse(v, requests[i].txId, requests[i].resultSetHash, out);
        }
        // INTERACTIONS
        _send(out.items, out.count);
    }

    /// @dev The caller is a verifier with an account active now in the role of its kind.
    function _requireVerifier() private view returns (Verifier memory v) {
        v = _verifiers[msg.sender];
        if (v.weight == 0) revert LedgerUnknownVerifier(msg.sender);
        _membership.requireActiveAccount(msg.sender, _roleOf(v.kind));
    }

    /// @dev Credit reports collected over one call, sent at its end; the standings asked in it and the settings
    /// (which an endorsement never writes), read once.
    struct Reports {
        Report[] items;
        uint256 count;
        Standing known;
        Settings settings;
    }

    /// @dev One endorsement by the checked verifier `v`; its credit reports are appended to `out`.
    function _endorse(Verifier memory v, TxId txId, bytes32 resultSetHash, Reports memory out) private {
        // CHECKS
        TxRecord memory t = _load(txId);
        if (t.state != TxState.Executed) revert LedgerInvalidTransition(txId, t.state, TxState.Confirmed);
        uint16 bit = uint16(1) << v.index;
        // The bit is the caller's only if written after it took the index.
        if (t.endorsedMask & bit != 0 && _verifierSlots[v.index].since <= t.epoch) {
            revert LedgerAlreadyEndorsed(txId, msg.sender);
        }
        Settings memory s = out.settings;
        PipeSide memory parties = _pipeSides[t.pipeIndex][SOURCE];
        Tally memory y = _tally(t, s.verifierSlots, parties, out.known);

        // EFFECTS
        (y.markedWeight, y.endorsed) = (y.markedWeight + v.weight, y.endorsed | bit);
        bytes32 recorded = _resultSetHashes[txId];
        if (resultSetHash == recorded) {
            y.forWeight += v.weight;
            if (!_isParty(_verifierSlots[v.index].institution, parties)) y.nonParty = true;
            // The confirmation is told by this Endorsed (`to`), not by a TxTransitioned of its own.
            TxState to = TxState.None;
            if (_confirms(y, s, out.known)) {
                to = TxState.Confirmed;
                _advance(txId, t, to);
                _reportBoth(parties, ICreditScore.Outcome.Completed, txId, out);
            }
            emit Endorsed(txId, msg.sender, to, resultSetHash, v.weight, uint16(y.forWeight), s.totalWeight);
            if (to == TxState.None && _outOfReach(y, s, parties, out.known)) {
                t.reason = Reason.Conflict;
                _transition(txId, t, TxState.Manual);
            }
        } else {
            (y.against, y.againstWeight) = (y.against | bit, y.againstWeight + v.weight);
            uint16 against = uint16(y.againstWeight);
            emit EndorsementConflicted(txId, msg.sender, resultSetHash, recorded, v.weight, against, s.totalWeight);
            if (_conflicts(y, s, out.known) || _outOfReach(y, s, parties, out.known)) {
                t.reason = Reason.Conflict;
                _transition(txId, t, TxState.Manual);
            }
        }
        (t.endorsedMask, t.againstMask, t.epoch) = (y.endorsed, y.against, s.epoch);
        _store(txId, t);
    }

    /// @dev More than half of the valid weight, a non-party among it: for > against + the valid weight yet to endorse.
    function _confirms(Tally memory y, Settings memory s, Standing memory known) private view returns (bool) {
        if (!y.nonParty || y.forWeight <= y.againstWeight) return false;
        uint256 margin = y.forWeight - y.againstWeight;
        return
            _validWeightBelow(s.verifierSlots & ~uint256(y.endorsed), s.totalWeight - y.markedWeight, margin, known) <
            margin;
    }

    /// @dev At least half of the valid weight against: against >= for + the valid weight yet to endorse.
    function _conflicts(Tally memory y, Settings memory s, Standing memory known) private view returns (bool) {
        if (y.againstWeight < y.forWeight) return false;
        uint256 margin = y.againstWeight - y.forWeight + 1;
        return
            _validWeightBelow(s.verifierSlots & ~uint256(y.endorsed), s.totalWeight - y.markedWeight, margin, known) <
            margin;
    }

    /**
     * @dev Confirmation is out of reach under the non-party rule, so waiting cannot help: a valid conflict stands, no
     * valid non-party endorsed the recorded set, and no valid non-party is left to endorse (every independent one
     * conflicted, or the rest are the parties). The weight side needs no check here: {_conflicts} covers "the rest
     * cannot outweigh the conflict". Only a conflicted transaction pays for it: with no conflict it waits, as for an
     * independent verifier that is down or suspended.
     */
    function _outOfReach(
        Tally memory y,
        Settings memory s,
        PipeSide memory parties,
        Standing memory known
    ) private view returns (bool) {
        if (y.nonParty || y.againstWeight == 0) return false;
        uint256 mask = s.verifierSlots & ~uint256(y.endorsed);
        for (uint256 i = 0; mask >> i != 0; ++i) {
            if ((mask >> i) & 1 == 0) continue;
            VerifierSlot memory slot = _verifierSlots[i];
            if (!_isParty(slot.institution, parties) && _isValidAt(i, slot, known)) return false;
        }
        return true;
    }

    /**
     * @dev The valid weight of the verifiers in `mask`, counted only as far as `limit`: at most `bound` (their
     * stored weight) without asking, else asked one by one until the sum reaches `limit`. Callers compare the result
     * with `limit` only, so stopping there is exact.
     */
    function _validWeightBelow(
        uint256 mask,
        uint256 bound,
        uint256 limit,
        Standing memory known
    ) private view returns (uint256 sum) {
        if (bound < limit) return bound;
        for (uint256 i = 0; mask >> i != 0 && sum < limit; ++i) {
            if ((mask >> i) & 1 == 0) continue;
            VerifierSlot memory slot = _verifierSlots[i];
            if (_isValidAt(i, slot, known)) sum += slot.weight;
        }
    }

    /// @dev `parties`: the pipe's source side (its institution and its peer, the target's).
    function _reportBoth(
        PipeSide memory parties,
        ICreditScore.Outcome outcome,
        TxId txId,
        Reports memory out
    ) private pure {
        (uint32 source, uint32 target) = (parties.institution, parties.peer);
        out.items[out.count++] = Report(source, outcome, txId);
        if (target != source) out.items[out.count++] = Report(target, outcome, txId);
    }
}
